"""JWT bearer authentication: issue and verify tokens, and FastAPI dependencies for principals and roles.

Tokens are verified with the explicit algorithm list from settings, never with the algorithm a token
names for itself. Every refusal is `app.errors.Unauthorized` with a stable code:

    token_missing, token_invalid, token_expired, token_wrong_audience, token_algorithm_not_allowed

Tenant scoping is the caller's job: read `principal.tenant`.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Final, Literal, cast, get_args

from fastapi import Depends
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from jose import jwt
from jose.exceptions import ExpiredSignatureError, JWTClaimsError, JWTError

from app.errors import Forbidden, Unauthorized
from app.settings import Settings, get_settings

Role = Literal["agent", "security", "trainer", "admin", "approver", "service"]
ROLES: Final[frozenset[str]] = frozenset(get_args(Role))
MAX_CLAIM_CHARS = 200
_CLOCK_SKEW_SECONDS = 30
_REQUIRED = ("exp", "iat", "iss", "aud", "sub", "tenant", "role")
_DECODE_OPTIONS: Final[Mapping[str, Any]] = {
    **{f"require_{claim}": True for claim in ("exp", "iat", "iss", "aud", "sub")},
    "leeway": _CLOCK_SKEW_SECONDS,
}


@dataclass(frozen=True, slots=True)
class Principal:
    subject: str
    tenant: str
    role: Role
    expires_at: datetime


def _refuse(code: str, message: str) -> Unauthorized:
    return Unauthorized(message, code=code)


def issue_token(
    settings: Settings, *, tenant: str, role: Role | str, subject: str, ttl_seconds: int = 3600
) -> str:
    """Sign a token with the first allowed algorithm. Refuses what `decode_token` would refuse."""
    if not isinstance(role, str) or role not in ROLES:
        raise ValueError(f"unknown role {role!r}; expected one of {sorted(ROLES)}")
    if not _is_claim_text(tenant) or not _is_claim_text(subject):
        raise ValueError("tenant and subject must be non-empty strings")
    if ttl_seconds <= 0:
        raise ValueError("ttl_seconds must be positive")
    now = int(time.time())
    claims = {
        "iss": settings.jwt_issuer,
        "aud": settings.jwt_audience,
        "sub": subject,
        "tenant": tenant,
        "role": role,
        "iat": now,
        "exp": now + ttl_seconds,
        "jti": uuid.uuid4().hex,
    }
    return cast(str, jwt.encode(claims, settings.jwt_secret, algorithm=settings.jwt_algorithms[0]))


def decode_token(settings: Settings, token: str | None) -> Principal:
    """Verify signature, algorithm, expiry, issuer, audience and Deskguard's claims; return who it is."""
    if not token or not token.strip():
        raise _refuse("token_missing", "A bearer token is required.")
    token = token.strip()
    try:
        header = jwt.get_unverified_header(token)
    except JWTError:
        raise _refuse("token_invalid", "The bearer token is malformed.") from None
    if header.get("alg") not in settings.jwt_algorithms:
        raise _refuse("token_algorithm_not_allowed", "The token's signing algorithm is not accepted.")
    try:
        claims = jwt.decode(
            token,
            settings.jwt_secret,
            algorithms=settings.jwt_algorithms,
            audience=settings.jwt_audience,
            issuer=settings.jwt_issuer,
            options=dict(_DECODE_OPTIONS),
        )
    except ExpiredSignatureError:
        raise _refuse("token_expired", "The bearer token has expired.") from None
    except JWTClaimsError:
        # The signature was valid (jose checks it before claims), so reading the audience is safe.
        if not _audience_matches(jwt.get_unverified_claims(token), settings.jwt_audience):
            raise _refuse("token_wrong_audience", "The token was not issued for this service.") from None
        raise _refuse("token_invalid", "The bearer token's claims are not valid.") from None
    except JWTError:
        raise _refuse("token_invalid", "The bearer token could not be verified.") from None
    return _principal(claims)


def _audience_matches(claims: Mapping[str, Any], audience: str) -> bool:
    aud = claims.get("aud")
    if isinstance(aud, str):
        return aud == audience
    if isinstance(aud, list):
        return audience in aud
    return True  # absent or malformed audience is an invalid token, not a wrong one


def _is_claim_text(value: object) -> bool:
    return isinstance(value, str) and bool(value.strip()) and len(value) <= MAX_CLAIM_CHARS


def _principal(claims: Mapping[str, Any]) -> Principal:
    missing = [c for c in _REQUIRED if c not in claims]
    if missing:
        raise _refuse("token_invalid", f"The bearer token lacks required claims: {', '.join(missing)}.")
    subject, tenant, role, exp = claims["sub"], claims["tenant"], claims["role"], claims["exp"]
    if not _is_claim_text(subject) or not _is_claim_text(tenant):
        raise _refuse("token_invalid", "The bearer token's subject or tenant is not valid.")
    if not isinstance(role, str) or role not in ROLES:
        raise _refuse("token_invalid", "The bearer token's role is not a known role.")
    return Principal(
        subject=subject,
        tenant=tenant,
        role=cast(Role, role),
        expires_at=datetime.fromtimestamp(int(exp), tz=UTC),
    )


_bearer = HTTPBearer(auto_error=False, description="A JWT issued by Deskguard for one tenant and role.")


async def current_principal(
    credentials: HTTPAuthorizationCredentials | None = Depends(_bearer),
    settings: Settings = Depends(get_settings),
) -> Principal:
    """FastAPI dependency: the authenticated principal, or 401 (with `WWW-Authenticate: Bearer`)."""
    return decode_token(settings, credentials.credentials if credentials else None)


def require_roles(*roles: Role) -> Callable[..., Awaitable[Principal]]:
    """FastAPI dependency factory: the principal if its role is one of `roles`, else 403 role_forbidden."""
    unknown = set(roles) - ROLES
    if not roles or unknown:
        raise ValueError(f"require_roles needs known roles; got unknown {sorted(unknown)}")
    allowed = frozenset(roles)

    async def _require(principal: Principal = Depends(current_principal)) -> Principal:
        if principal.role not in allowed:
            raise Forbidden(
                "Your role may not perform this action.",
                code="role_forbidden",
                details={"required_roles": sorted(allowed)},
            )
        return principal

    return _require
