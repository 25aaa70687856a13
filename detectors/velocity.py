"""Velocity: several tickets or requesters about one account in a short window, and recent changes."""

from __future__ import annotations

from datetime import timedelta

from detectors.protocol import Analysis, Findings, Hit

NAME = "velocity"
RECENT_CHANGE_DAYS = 7


class VelocityDetector:
    name = NAME

    def detect(self, analysis: Analysis, prior: Findings) -> Findings:
        ctx = analysis.context
        since = ctx.now - timedelta(hours=ctx.velocity_window_hours)
        recent = [t for t in ctx.recent_tickets if since <= t.created_at <= ctx.now]
        out = Findings()
        if len(recent) >= 2:
            out.hits.append(
                Hit(
                    id="builtin.velocity.repeat_tickets",
                    detector=NAME,
                    tactic="velocity",
                    weight=15,
                    explanation=f"{len(recent) + 1} tickets about this account in {ctx.velocity_window_hours} hours",
                )
            )
        requesters = {t.requester_key for t in recent if t.requester_key}
        if ctx.requester_key:
            requesters.add(ctx.requester_key)
        if len(requesters) >= 2:
            out.hits.append(
                Hit(
                    id="builtin.velocity.many_requesters",
                    detector=NAME,
                    tactic="velocity",
                    weight=15,
                    explanation="Different requesters asked about this account in a short window",
                )
            )
        account = ctx.account
        if account:
            window = ctx.now - timedelta(days=RECENT_CHANGE_DAYS)
            changes = [c for c in account.recent_changes if c.at is not None and window <= c.at <= ctx.now]
            if changes:
                kinds = ", ".join(sorted({c.kind for c in changes}))[:60]
                out.hits.append(
                    Hit(
                        id="builtin.velocity.recent_account_change",
                        detector=NAME,
                        tactic="velocity",
                        weight=10,
                        explanation=f"The account changed in the last {RECENT_CHANGE_DAYS} days ({kinds})",
                    )
                )
        return out
