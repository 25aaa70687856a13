"""Banner sessions: verify a helpdesk app's token, then issue Deskguard's own short-lived session.

App tokens: Zendesk signed URLs (RS256, verified with the installation's public key: integration
option `zendesk_app_public_key` or credential of that name; issuer and audience from options
`zendesk_app_issuer` / `zendesk_app_audience`), or a shared-secret HS256 token signed with the
integration's credential `banner_app_secret`. Algorithms are always an explicit one-item list.

Session tokens: HS256 with settings.jwt_secret, audience "deskguard-banner", claims tenant, sub
(the agent), ticket_id. Refusal codes: token_missing, token_invalid, token_expired,
token_wrong_audience, token_algorithm_not_allowed, tenant_mismatch, ticket_mismatch.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Final, cast

from fastapi import Depends
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from jose import jwt
from jose.exceptions import ExpiredSignatureError, JWTClaimsError, JWTError

from app.errors import Forbidden, Unauthorized
from app.settings import Settings, get_settings

BANNER_AUDIENCE: Final = "deskguard-banner"
_LEEWAY = 30


@dataclass(frozen=True, slots=True)
class BannerSession:
    tenant: str
    subject: str
    ticket_id: str

    def require_ticket(self, ticket_id: str) -> None:
        if ticket_id != self.ticket_id:
            raise Forbidden("This banner session is for another ticket.", code="ticket_mismatch")


def _refuse(code: str, message: str) -> Unauthorized:
    return Unauthorized(message, code=code)


def verify_jwt(
    token: str | None,
    key: str,
    algorithm: str,
    *,
    audience: str | None,
    issuer: str | None,
) -> dict[str, Any]:
    """Verify `token` with exactly `algorithm`; map every failure to a stable refusal code."""
    if not token or not token.strip():
        raise _refuse("token_missing", "A token is required.")
    token = token.strip()
    try:
        header = jwt.get_unverified_header(token)
    except JWTError:
        raise _refuse("token_invalid", "The token is malformed.") from None
    if header.get("alg") != algorithm:
        raise _refuse("token_algorithm_not_allowed", "The token's signing algorithm is not accepted.")
    # Zendesk sends the user id as a number: `sub` is checked below, not by jose (which wants a string).
    options: dict[str, Any] = {"leeway": _LEEWAY, "require_exp": True, "verify_sub": False}
    if audience is None:
        options["verify_aud"] = False
    try:
        claims = jwt.decode(token, key, algorithms=[algorithm], audience=audience, issuer=issuer, options=options)
    except ExpiredSignatureError:
        raise _refuse("token_expired", "The token has expired.") from None
    except JWTClaimsError:
        aud = jwt.get_unverified_claims(token).get("aud")
        if (
            audience is not None
            and aud is not None
            and aud != audience
            and not (isinstance(aud, list) and audience in aud)
        ):
            raise _refuse("token_wrong_audience", "The token was not issued for this app.") from None
        raise _refuse("token_invalid", "The token's claims are not valid.") from None
    except JWTError:
        raise _refuse("token_invalid", "The token could not be verified.") from None
    if not isinstance(claims.get("sub"), (str, int)) or str(claims["sub"]).strip() == "":
        raise _refuse("token_invalid", "The token has no subject.")
    return cast(dict[str, Any], claims)


def issue_session(settings: Settings, *, tenant: str, subject: str, ticket_id: str) -> tuple[str, int]:
    """A banner session token for one tenant, agent and ticket; returns (token, lifetime seconds)."""
    now = int(time.time())
    ttl = settings.banner_session_seconds
    claims = {
        "iss": settings.jwt_issuer,
        "aud": BANNER_AUDIENCE,
        "sub": subject[:200],
        "tenant": tenant,
        "ticket_id": ticket_id,
        "iat": now,
        "exp": now + ttl,
        "jti": uuid.uuid4().hex,
    }
    return cast(str, jwt.encode(claims, settings.jwt_secret, algorithm="HS256")), ttl


def decode_session(settings: Settings, token: str | None) -> BannerSession:
    claims = verify_jwt(token, settings.jwt_secret, "HS256", audience=BANNER_AUDIENCE, issuer=settings.jwt_issuer)
    tenant, ticket_id = claims.get("tenant"), claims.get("ticket_id")
    if not isinstance(tenant, str) or not tenant or not isinstance(ticket_id, str) or not ticket_id:
        raise _refuse("token_invalid", "The banner session lacks its tenant or ticket.")
    return BannerSession(tenant=tenant, subject=str(claims["sub"]), ticket_id=ticket_id)


def app_claims(options: Mapping[str, Any], credentials: Mapping[str, str], token: str, kind: str) -> dict[str, Any]:
    """Verify a helpdesk app's token against one integration's configuration."""
    if kind == "zendesk_signed_url":
        key = str(credentials.get("zendesk_app_public_key") or options.get("zendesk_app_public_key") or "")
        audience, issuer = options.get("zendesk_app_audience"), options.get("zendesk_app_issuer")
        if not key or not audience or not issuer:
            raise Forbidden("Signed URLs are not configured for this integration.", code="app_auth_not_configured")
        return verify_jwt(token, key, "RS256", audience=str(audience), issuer=str(issuer))
    secret = credentials.get("banner_app_secret", "")
    if not secret:
        raise Forbidden("No banner app secret is set for this integration.", code="app_auth_not_configured")
    return verify_jwt(token, secret, "HS256", audience=BANNER_AUDIENCE, issuer=None)


_bearer = HTTPBearer(auto_error=False, description="A banner session token from /v1/banner/session.")


async def banner_session(
    credentials: HTTPAuthorizationCredentials | None = Depends(_bearer),
    settings: Settings = Depends(get_settings),
) -> BannerSession:
    """FastAPI dependency: the banner session, or 401 with a stable code."""
    return decode_session(settings, credentials.credentials if credentials else None)
