"""JWT verification: one table of tokens and the code each must be refused with."""

from __future__ import annotations

import base64
import json
import time
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import pytest
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.hazmat.primitives.serialization import Encoding, NoEncryption, PrivateFormat
from fastapi import Depends, FastAPI
from fastapi.testclient import TestClient
from jose import jwt

from app.auth import ROLES, Principal, current_principal, decode_token, issue_token, require_roles
from app.error_handlers import install_error_handlers
from app.errors import Unauthorized
from app.settings import Settings, get_settings

SECRET = "t" * 40
SETTINGS = Settings(env="test", jwt_secret=SECRET, jwt_algorithms=["HS256"])
_DROP = object()  # a claim to leave out


def _claims(**overrides: Any) -> dict[str, Any]:
    now = int(time.time())
    claims: dict[str, Any] = {
        "iss": SETTINGS.jwt_issuer,
        "aud": SETTINGS.jwt_audience,
        "sub": "agent-7",
        "tenant": "acme",
        "role": "agent",
        "iat": now,
        "exp": now + 600,
    }
    claims.update(overrides)
    return {k: v for k, v in claims.items() if v is not _DROP}


def _signed(algorithm: str = "HS256", key: str = SECRET, **overrides: Any) -> str:
    return jwt.encode(_claims(**overrides), key, algorithm=algorithm)


def _b64(data: dict[str, Any]) -> str:
    return base64.urlsafe_b64encode(json.dumps(data).encode()).rstrip(b"=").decode()


def _unsigned(header: dict[str, Any], signature: str = "") -> str:
    return f"{_b64(header)}.{_b64(_claims())}.{signature}"


def _rs256() -> str:
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    pem = key.private_bytes(Encoding.PEM, PrivateFormat.PKCS8, NoEncryption()).decode()
    return jwt.encode(_claims(), pem, algorithm="RS256")


def _tampered() -> str:
    header, _, signature = _signed().split(".")
    return f"{header}.{_b64(_claims(role='admin'))}.{signature}"


REFUSED: list[tuple[str, Callable[[], str | None], str]] = [
    ("empty", lambda: "", "token_missing"),
    ("none", lambda: None, "token_missing"),
    ("garbage", lambda: "not-a-jwt", "token_invalid"),
    ("expired", lambda: _signed(iat=int(time.time()) - 7200, exp=int(time.time()) - 3600), "token_expired"),
    ("wrong audience", lambda: _signed(aud="someone-else-api"), "token_wrong_audience"),
    ("wrong audience list", lambda: _signed(aud=["a-api", "b-api"]), "token_wrong_audience"),
    ("wrong issuer", lambda: _signed(iss="evil-issuer"), "token_invalid"),
    ("wrong secret", lambda: _signed(key="x" * 40), "token_invalid"),
    ("tampered payload", _tampered, "token_invalid"),
    ("alg none", lambda: _unsigned({"alg": "none", "typ": "JWT"}), "token_algorithm_not_allowed"),
    ("alg None", lambda: _unsigned({"alg": "None", "typ": "JWT"}), "token_algorithm_not_allowed"),
    ("no alg", lambda: _unsigned({"typ": "JWT"}, "c2ln"), "token_algorithm_not_allowed"),
    ("HS512 not allowed", lambda: _signed(algorithm="HS512"), "token_algorithm_not_allowed"),
    ("RS256 signed", _rs256, "token_algorithm_not_allowed"),
    ("RS256 header", lambda: _unsigned({"alg": "RS256"}, "c2lnbmF0dXJl"), "token_algorithm_not_allowed"),
    *[
        (f"missing {claim}", lambda claim=claim: _signed(**{claim: _DROP}), "token_invalid")
        for claim in ("exp", "iat", "iss", "aud", "sub", "tenant", "role")
    ],
    ("unknown role", lambda: _signed(role="superuser"), "token_invalid"),
    ("role not a string", lambda: _signed(role=["admin"]), "token_invalid"),
    ("tenant not a string", lambda: _signed(tenant=42), "token_invalid"),
    ("empty tenant", lambda: _signed(tenant=" "), "token_invalid"),
    ("exp not a number", lambda: _signed(exp="tomorrow"), "token_invalid"),
]


@pytest.mark.parametrize(("case", "make", "code"), REFUSED, ids=[case for case, _, _ in REFUSED])
def test_refused_tokens(case: str, make: Callable[[], str | None], code: str) -> None:
    with pytest.raises(Unauthorized) as refused:
        decode_token(SETTINGS, make())
    assert refused.value.code == code
    assert refused.value.status_code == 401


@pytest.mark.parametrize("role", sorted(ROLES))
def test_issued_token_is_accepted(role: str) -> None:
    before = int(time.time())
    token = issue_token(SETTINGS, tenant="acme", role=role, subject="user-1", ttl_seconds=120)
    principal = decode_token(SETTINGS, token)
    assert principal == Principal(
        subject="user-1", tenant="acme", role=role, expires_at=principal.expires_at  # type: ignore[arg-type]
    )
    assert before + 120 <= principal.expires_at.timestamp() <= int(time.time()) + 120
    assert principal.expires_at.tzinfo is UTC


@pytest.mark.parametrize(
    ("case", "token"),
    [
        ("hand-made HS256", lambda: _signed()),
        ("audience list containing ours", lambda: _signed(aud=["other-api", SETTINGS.jwt_audience])),
        ("expired within the clock-skew leeway", lambda: _signed(exp=int(time.time()) - 5)),
    ],
)
def test_other_valid_tokens(case: str, token: Callable[[], str]) -> None:
    assert decode_token(SETTINGS, token()).tenant == "acme"


def test_algorithm_list_comes_from_settings() -> None:
    hs512 = Settings(env="test", jwt_secret=SECRET, jwt_algorithms=["HS512"])
    token = issue_token(hs512, tenant="acme", role="admin", subject="u")
    assert jwt.get_unverified_header(token)["alg"] == "HS512"
    assert decode_token(hs512, token).role == "admin"
    with pytest.raises(Unauthorized) as refused:
        decode_token(hs512, _signed(algorithm="HS256"))
    assert refused.value.code == "token_algorithm_not_allowed"


@pytest.mark.parametrize(
    "kwargs",
    [
        {"tenant": "acme", "role": "root", "subject": "u"},
        {"tenant": "", "role": "agent", "subject": "u"},
        {"tenant": "acme", "role": "agent", "subject": "u", "ttl_seconds": 0},
    ],
)
def test_issue_token_refuses_what_decode_would_refuse(kwargs: dict[str, Any]) -> None:
    with pytest.raises(ValueError):
        issue_token(SETTINGS, **kwargs)


def test_principal_is_frozen() -> None:
    principal = Principal("u", "acme", "agent", datetime.now(UTC))
    with pytest.raises(AttributeError):
        principal.tenant = "other"  # type: ignore[misc]


# --- FastAPI dependencies -------------------------------------------------------------------------


@pytest.fixture
def client() -> TestClient:
    app = FastAPI()
    install_error_handlers(app)
    app.dependency_overrides[get_settings] = lambda: SETTINGS

    @app.get("/me")
    async def me(principal: Principal = Depends(current_principal)) -> dict[str, str]:
        return {"tenant": principal.tenant, "role": principal.role}

    @app.get("/rules")
    async def rules(principal: Principal = Depends(require_roles("security", "admin"))) -> dict[str, str]:
        return {"tenant": principal.tenant}

    return TestClient(app)


def _bearer(role: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {issue_token(SETTINGS, tenant='acme', role=role, subject='u')}"}


@pytest.mark.parametrize(
    ("headers", "code"),
    [
        ({}, "token_missing"),
        ({"Authorization": "Basic dXNlcjpwYXNz"}, "token_missing"),
        ({"Authorization": "Bearer "}, "token_missing"),
        ({"Authorization": "Bearer not-a-jwt"}, "token_invalid"),
    ],
)
def test_current_principal_refuses_with_401_and_challenge(
    client: TestClient, headers: dict[str, str], code: str
) -> None:
    response = client.get("/me", headers=headers)
    assert response.status_code == 401
    assert response.json()["code"] == code
    assert response.headers["WWW-Authenticate"].startswith("Bearer")


def test_current_principal_accepts_a_valid_token(client: TestClient) -> None:
    response = client.get("/me", headers=_bearer("trainer"))
    assert response.status_code == 200
    assert response.json() == {"tenant": "acme", "role": "trainer"}


@pytest.mark.parametrize(
    ("role", "status"), [("security", 200), ("admin", 200), ("agent", 403), ("service", 403)]
)
def test_require_roles(client: TestClient, role: str, status: int) -> None:
    response = client.get("/rules", headers=_bearer(role))
    assert response.status_code == status
    if status == 403:
        assert response.json()["code"] == "role_forbidden"


def test_require_roles_without_token_is_401_not_403(client: TestClient) -> None:
    assert client.get("/rules").status_code == 401


def test_require_roles_refuses_unknown_roles_at_definition() -> None:
    with pytest.raises(ValueError):
        require_roles("wizard")  # type: ignore[arg-type]
    with pytest.raises(ValueError):
        require_roles()
