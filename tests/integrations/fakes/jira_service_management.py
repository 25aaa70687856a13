"""A fake Jira Service Management Cloud site: exactly the documented endpoints the adapter calls.

Endpoints (https://developer.atlassian.com/cloud/jira/service-desk/rest/api-group-request/ and
https://developer.atlassian.com/cloud/jira/platform/rest/v3/):
    GET  /rest/api/3/myself
    GET  /rest/api/3/user?accountId=...
    PUT  /rest/api/3/issue/{issueIdOrKey}                      {"update": {"labels": [...]}, "fields": {...}} -> 204
    GET  /rest/servicedeskapi/request/{issueIdOrKey}
    GET  /rest/servicedeskapi/request/{issueIdOrKey}/comment   ?public&internal&start&limit (paged)
    POST /rest/servicedeskapi/request/{issueIdOrKey}/comment   {"body": text, "public": bool} -> 201
Every call needs HTTP basic auth with CREDENTIALS' email and api_token; otherwise Jira's 401.
State: issues (key and id), their comments (public and internal), labels and one custom field.
"""

from __future__ import annotations

import base64
import binascii
import re
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import unquote

from app.core.ticket import Ticket
from tests.integrations.fakeserver import FakeHelpdesk, Recorded, Reply

PROVIDER = "jira_service_management"
FIELD_ID = "customfield_10050"
CREDENTIALS: dict[str, str] = {"site": "deskguard-test", "email": "agent@example.com", "api_token": "jsm-api-token-1"}
OPTIONS: dict[str, str] = {"custom_field": FIELD_ID}
NOTE_REQUEST = r"POST /rest/servicedeskapi/request/[^/]+/comment"
AGENT_ACCOUNT = "5b10ac8d82e05b22cc7d4ef5"
MAX_LIMIT = 100
SELECT_OPTIONS = ("low", "medium", "high", "critical")
_REF = r"(?P<ref>[^/]+)"


@dataclass
class Issue:
    id: str
    key: str
    summary: str
    description: str
    reporter: str  # accountId
    comments: list[dict[str, Any]] = field(default_factory=list)
    labels: set[str] = field(default_factory=set)
    fields: dict[str, Any] = field(default_factory=dict)


def _unauthorized_platform() -> Reply:
    """/rest/api/3: 401 "Returned if the authentication credentials are incorrect or missing"."""
    body = {"errorMessages": ["You are not authenticated. Authentication required to perform this operation."]}
    return Reply(401, {**body, "errors": {}}, {"WWW-Authenticate": 'Basic realm="protected-area"'})


def _unauthorized_servicedesk() -> Reply:
    """/rest/servicedeskapi: 401 "Returned if the user is not logged in"."""
    body = {"errorMessage": "You are not logged in.", "i18nErrorMessage": {"i18nKey": "sd.auth.required"}}
    return Reply(401, body, {"WWW-Authenticate": 'Basic realm="protected-area"'})


def _label_operation_ok(operation: Any) -> bool:
    """One documented labels operation: {"add": label}, {"remove": label} or {"set": [labels]}."""
    if not isinstance(operation, dict) or len(operation) != 1:
        return False
    ((verb, value),) = operation.items()
    if verb in ("add", "remove"):
        return isinstance(value, str) and bool(value) and " " not in value
    return verb == "set" and isinstance(value, list) and all(isinstance(v, str) and " " not in v for v in value)


def _platform_error(status: int, message: str = "", errors: dict[str, str] | None = None) -> Reply:
    return Reply(status, {"errorMessages": [message] if message else [], "errors": errors or {}})


def _servicedesk_error(status: int, message: str) -> Reply:
    return Reply(status, {"errorMessage": message, "i18nErrorMessage": {"i18nKey": "sd.error", "parameters": []}})


class Fake(FakeHelpdesk):
    def __init__(self, credentials: dict[str, str] | None = None, field_type: str = "text") -> None:
        super().__init__()
        creds = credentials or CREDENTIALS
        self.email, self.token = creds["email"], creds["api_token"]
        self.field_type = field_type  # "text" (Short text) or "select" (Select list, single choice)
        self.issues: dict[str, Issue] = {}
        self.users: dict[str, dict[str, Any]] = {
            AGENT_ACCOUNT: {
                "accountId": AGENT_ACCOUNT,
                "accountType": "atlassian",
                "displayName": "Deskguard Agent",
                "emailAddress": self.email,
                "active": True,
            }
        }
        self._ids = 10000
        self._comment_ids = 20000
        self._routes()

    def __enter__(self) -> Fake:
        super().__enter__()
        return self

    # -- contract --

    def add_ticket(self, ref: str, ticket: Ticket) -> None:
        """The request `ref` now exists: summary, description (first requester message), later messages as
        public comments, its reporter as a customer user, and its labels."""
        with self.lock:
            self._ids += 1
            who = ticket.requester
            account = who.external_id or f"qm:fake:{self._ids}"
            self.users[account] = {
                "accountId": account,
                "accountType": "customer",
                "displayName": who.name,
                "emailAddress": who.email,
                "active": True,
            }
            texts = list(ticket.messages)
            first = next((m for m in texts if m.author == "requester"), None)
            issue = Issue(str(self._ids), ref, ticket.subject, first.body if first else "", account)
            issue.labels = set(ticket.tags)
            self.issues[ref] = issue
            for message in texts:
                if message is not first:
                    author = account if message.author == "requester" else AGENT_ACCOUNT
                    self._comment(issue, message.body, True, author)

    def notes(self, ref: str) -> list[str]:
        with self.lock:
            return [c["body"] for c in self.issues[ref].comments if not c["public"]]

    def tags(self, ref: str) -> set[str]:
        with self.lock:
            return set(self.issues[ref].labels)

    def field_value(self, ref: str) -> str | None:
        with self.lock:
            value = self.issues[ref].fields.get(FIELD_ID)
        if isinstance(value, dict):
            return str(value.get("value"))
        return None if value is None else str(value)

    # -- helpers for tests --

    def add_comment(self, ref: str, body: str, public: bool, author: str = AGENT_ACCOUNT) -> None:
        with self.lock:
            self._comment(self.issues[ref], body, public, author)

    def public_comments(self, ref: str) -> list[str]:
        with self.lock:
            return [c["body"] for c in self.issues[ref].comments if c["public"]]

    def _comment(self, issue: Issue, body: str, public: bool, author: str) -> dict[str, Any]:
        self._comment_ids += 1
        comment = {"id": str(self._comment_ids), "body": body, "public": public, "author": author}
        issue.comments.append(comment)
        return comment

    # -- HTTP --

    def _authorized(self, rec: Recorded) -> bool:
        header = rec.headers.get("authorization", "")
        scheme, _, value = header.partition(" ")
        if scheme.lower() != "basic":
            return False
        try:
            decoded = base64.b64decode(value.strip(), validate=True).decode()
        except (binascii.Error, UnicodeDecodeError):
            return False
        email, sep, token = decoded.partition(":")
        return bool(sep) and email == self.email and token == self.token

    def _issue(self, ref: str) -> Issue | None:
        ref = unquote(ref)
        return self.issues.get(ref) or next((i for i in self.issues.values() if i.id == ref), None)

    def _user(self, account: str) -> dict[str, Any]:
        return dict(self.users.get(account, {"accountId": account, "displayName": "", "active": True}))

    def _comment_dto(self, comment: dict[str, Any]) -> dict[str, Any]:
        return {
            "id": comment["id"],
            "body": comment["body"],
            "public": comment["public"],
            "author": self._user(comment["author"]),
            "created": {"iso8601": "2024-05-01T10:00:00+0000", "epochMillis": 1714557600000},
        }

    def _routes(self) -> None:
        self.route("GET", r"/rest/api/3/myself")(self._myself)
        self.route("GET", r"/rest/api/3/user")(self._get_user)
        self.route("PUT", rf"/rest/api/3/issue/{_REF}")(self._edit_issue)
        self.route("GET", rf"/rest/servicedeskapi/request/{_REF}")(self._get_request)
        self.route("GET", rf"/rest/servicedeskapi/request/{_REF}/comment")(self._get_comments)
        self.route("POST", rf"/rest/servicedeskapi/request/{_REF}/comment")(self._add_comment)

    def _myself(self, rec: Recorded, match: re.Match[str]) -> Reply:
        if not self._authorized(rec):
            return _unauthorized_platform()
        return Reply(200, self._user(AGENT_ACCOUNT))

    def _get_user(self, rec: Recorded, match: re.Match[str]) -> Reply:
        if not self._authorized(rec):
            return _unauthorized_platform()
        account = (rec.query.get("accountId") or [""])[0]
        if not account:
            return _platform_error(400, "The query parameter 'accountId' is required.")
        if account not in self.users:
            return _platform_error(404, "Specified user does not exist or you do not have required permissions")
        return Reply(200, self._user(account))

    def _get_request(self, rec: Recorded, match: re.Match[str]) -> Reply:
        if not self._authorized(rec):
            return _unauthorized_servicedesk()
        issue = self._issue(match["ref"])
        if issue is None:
            return _servicedesk_error(404, "The request could not be found.")
        values = [
            {"fieldId": "summary", "label": "Summary", "value": issue.summary},
            {"fieldId": "description", "label": "Description", "value": issue.description},
        ]
        body = {
            "issueId": issue.id,
            "issueKey": issue.key,
            "requestTypeId": "1",
            "serviceDeskId": "1",
            "reporter": self._user(issue.reporter),
            "requestFieldValues": values,
            "currentStatus": {"status": "Waiting for support", "statusCategory": "NEW"},
        }
        return Reply(200, body)

    def _get_comments(self, rec: Recorded, match: re.Match[str]) -> Reply:
        if not self._authorized(rec):
            return _unauthorized_servicedesk()
        issue = self._issue(match["ref"])
        if issue is None:
            return _servicedesk_error(404, "The request could not be found.")
        want_public = (rec.query.get("public") or ["true"])[0] != "false"
        want_internal = (rec.query.get("internal") or ["true"])[0] != "false"
        try:
            start = max(int((rec.query.get("start") or ["0"])[0]), 0)
            limit = min(max(int((rec.query.get("limit") or ["50"])[0]), 1), MAX_LIMIT)
        except ValueError:
            return _servicedesk_error(400, "start and limit must be numbers")
        chosen = [c for c in issue.comments if (want_public if c["public"] else want_internal)]
        page = chosen[start : start + limit]
        body = {
            "size": len(page),
            "start": start,
            "limit": limit,
            "isLastPage": start + len(page) >= len(chosen),
            "values": [self._comment_dto(c) for c in page],
        }
        return Reply(200, body)

    def _add_comment(self, rec: Recorded, match: re.Match[str]) -> Reply:
        if not self._authorized(rec):
            return _unauthorized_servicedesk()
        issue = self._issue(match["ref"])
        if issue is None:
            return _servicedesk_error(404, "The request could not be found.")
        data = rec.json()
        if not isinstance(data, dict) or not isinstance(data.get("body"), str) or not data["body"].strip():
            return _servicedesk_error(400, "The comment body is required.")
        public = data.get("public", True)
        if not isinstance(public, bool):
            return _servicedesk_error(400, "public must be true or false.")
        comment = self._comment(issue, data["body"], public, AGENT_ACCOUNT)
        return Reply(201, self._comment_dto(comment))

    def _edit_issue(self, rec: Recorded, match: re.Match[str]) -> Reply:
        if not self._authorized(rec):
            return _unauthorized_platform()
        issue = self._issue(match["ref"])
        if issue is None:
            return _platform_error(404, "Issue does not exist or you do not have permission to see it.")
        data = rec.json()
        if not isinstance(data, dict):
            return _platform_error(400, "Can not deserialize the request body.")
        update, fields = data.get("update") or {}, data.get("fields") or {}
        if not isinstance(update, dict) or not isinstance(fields, dict):
            return _platform_error(400, "update and fields must be objects.")
        errors = self._check_update(update) | self._check_fields(fields)
        both = set(update) & set(fields)
        errors |= {name: "Field can not be set in both 'fields' and 'update'." for name in both}
        if errors:
            return _platform_error(400, errors=errors)
        for operation in update.get("labels", []):
            if "add" in operation:
                issue.labels.add(operation["add"])
            elif "remove" in operation:
                issue.labels.discard(operation["remove"])
            else:
                issue.labels = set(operation["set"])
        issue.fields.update(fields)
        return Reply(204, None)

    def _check_update(self, update: dict[str, Any]) -> dict[str, str]:
        unknown = "cannot be set. It is not on the appropriate screen, or unknown."
        errors = {name: f"Field '{name}' {unknown}" for name in update if name != "labels"}
        operations = update.get("labels", [])
        if not isinstance(operations, list) or not all(_label_operation_ok(op) for op in operations):
            errors["labels"] = "Label operations must be add, remove or set, with labels without spaces."
        return errors

    def _check_fields(self, fields: dict[str, Any]) -> dict[str, str]:
        errors: dict[str, str] = {}
        for name, value in fields.items():
            if name != FIELD_ID:
                errors[name] = f"Field '{name}' cannot be set. It is not on the appropriate screen, or unknown."
            elif self.field_type == "text" and not (value is None or isinstance(value, str)):
                errors[name] = "Operation value must be a string"
            elif self.field_type == "select" and not (isinstance(value, dict) and value.get("value") in SELECT_OPTIONS):
                errors[name] = f"Specify a valid 'id' or 'name' for {name}"
        return errors
