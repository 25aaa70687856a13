"""End to end: scoring a ticket over HTTP writes logs, and none of the ticket's secrets reach them."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from fastapi.testclient import TestClient

BODY = "Please change my email to leak.me@gmail.com, call +1 415 555 0199, my secret words are purple monkey"


def test_ticket_text_contacts_and_tokens_never_reach_the_logs(
    client: TestClient, new_tenant: Callable[..., str], auth: Callable[..., dict[str, str]],
    capfd: pytest.CaptureFixture[str],
) -> None:
    tenant = new_tenant()
    headers = auth(tenant)
    token = headers["Authorization"].split()[1]
    ticket = {"ticket_id": "L-1", "subject": "secret subject line",
              "messages": [{"author": "requester", "body": BODY}],
              "requester": {"email": "owner.person@example.com", "phone": "+44 20 7946 0958", "name": "Zed Q"}}
    assert client.post("/v1/score", headers=headers, json=ticket).status_code == 201
    bad = {**ticket, "messages": [{"author": "intruder", "body": BODY}]}
    assert client.post("/v1/score", headers=headers, json=bad).status_code == 422
    client.post("/v1/score", headers={"Authorization": f"Bearer {token}x"}, json=ticket)
    out, err = capfd.readouterr()
    logs = out + err
    assert "ticket_assessed" in logs and "request_finished" in logs  # logging did happen
    for secret in ("purple monkey", "leak.me@gmail.com", "owner.person@example.com", "415 555 0199",
                   "7946 0958", "secret subject line", token, "Zed Q"):
        assert secret not in logs, secret
