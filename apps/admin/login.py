"""The admin's front door: what reaches piccolo-admin's login endpoint.

`POST /admin/public/login/` is answered by piccolo-admin; in front of it this guard
1. reads the body bounded in size and time (the same limits as /api), so a huge or slow
   body costs neither memory nor a worker;
2. answers malformed input itself with a JSON error (not JSON, not an object, a username
   or password that is not a non-empty string, text that cannot be encoded), which would
   otherwise reach piccolo-api's code as a 500;
3. throttles failed logins per (username, client) and per client, within a sliding window:
   one person cannot lock out another client, a block ends with the window, and memory
   is bounded. The client is the connection's peer, or behind TRUSTED_PROXIES the address
   they forwarded; an IPv6 client is its /64 (refresh/web/throttle.py). piccolo-admin's
   own limiter (per peer address, blocking until restart) is switched off in
   apps/admin/site.py.
And on every admin request, a session cookie that cannot be one of ours (piccolo-api's
tokens are URL-safe base64) is dropped before the gate or piccolo-api looks it up: a NUL
in it was a database error (a 500); the request goes on as one without a session.
"""

from __future__ import annotations

import json
import math
import re
from typing import Any
from urllib.parse import parse_qsl

from starlette.requests import cookie_parser
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from apps.admin.gate import SESSION_COOKIE
from refresh.web.body import BodyError, ClientGone, read_body, replay
from refresh.web.responses import error_response
from refresh.web.throttle import FailureThrottle, client_address, client_key, parse_networks
from settings import Settings

LOGIN_PATH = "/public/login/"
SESSION_SET = f"{SESSION_COOKIE}=".encode()
SESSION_TOKEN = re.compile(r"[A-Za-z0-9_-]{1,100}")  # secrets.token_urlsafe, the column's size


class LoginInputError(Exception):
    def __init__(self, status: int, code: str, message: str) -> None:
        super().__init__(message)
        self.status, self.code, self.message = status, code, message


def relative_path(scope: Scope) -> str:
    path: str = scope.get("path", "")
    root: str = scope.get("root_path", "")
    return path[len(root) :] if root and path.startswith(root) else path


def content_type(scope: Scope) -> str:
    for name, value in scope.get("headers", []):
        if name == b"content-type":
            return value.decode("latin-1").split(";")[0].strip().lower()
    return ""


def without_bad_session(scope: Scope) -> Scope:
    """`scope` without a session cookie that cannot be a session token."""
    raw = [value for name, value in scope.get("headers", []) if name == b"cookie"]
    if not raw:
        return scope
    cookies = cookie_parser(b"; ".join(raw).decode("latin-1"))
    token = cookies.get(SESSION_COOKIE)
    if token is None or SESSION_TOKEN.fullmatch(token):
        return scope
    kept = "; ".join(f"{name}={value}" for name, value in cookies.items() if name != SESSION_COOKIE)
    cookie = kept.encode("latin-1", "replace")
    headers = [(n, v) for n, v in scope["headers"] if n != b"cookie"]
    return {**scope, "headers": [*headers, (b"cookie", cookie)] if cookie else headers}


def parse_login(body: bytes, media_type: str) -> str:
    """The username of a well-formed login body; LoginInputError otherwise."""
    fields: Any
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError:
        raise LoginInputError(400, "invalid_body", "the body is not valid UTF-8") from None
    if media_type == "application/x-www-form-urlencoded":
        fields = dict(parse_qsl(text, keep_blank_values=True))
    elif media_type in ("application/json", ""):
        try:
            fields = json.loads(text)
        except (ValueError, RecursionError):  # RecursionError: nested deeper than parsed
            raise LoginInputError(400, "invalid_json", "the body is not valid JSON") from None
    else:
        raise LoginInputError(415, "unsupported_media_type", "send the login as JSON or as a form")
    if not isinstance(fields, dict):
        raise LoginInputError(422, "validation_error", "the body must be a JSON object")
    for name in ("username", "password"):
        value = fields.get(name)
        if not isinstance(value, str) or not value:
            raise LoginInputError(422, "validation_error", f"{name} must be a non-empty string")
        try:
            value.encode("utf-8")
        except UnicodeEncodeError:
            raise LoginInputError(
                422, "validation_error", f"{name} contains an invalid character"
            ) from None
        if "\x00" in value:
            raise LoginInputError(422, "validation_error", f"{name} contains a NUL character")
    username: str = fields["username"]
    return username


class LoginGuard:
    def __init__(self, app: ASGIApp, settings: Settings) -> None:
        self.app = app
        self.max_body_bytes = settings.max_body_bytes
        self.body_timeout = settings.body_read_timeout_seconds
        self.trusted = parse_networks(settings.trusted_proxies)
        window = settings.login_window_seconds
        self.per_login = FailureThrottle(settings.login_failure_limit, window)
        self.per_client = FailureThrottle(settings.login_client_failure_limit, window)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            scope = without_bad_session(scope)
        if (
            scope["type"] != "http"
            or scope["method"] != "POST"
            or relative_path(scope) != LOGIN_PATH
        ):
            await self.app(scope, receive, send)
            return
        try:
            body = await read_body(receive, self.max_body_bytes, self.body_timeout)
            username = parse_login(body, content_type(scope))
        except (BodyError, LoginInputError) as exc:
            await error_response(exc.status, exc.code, exc.message)(scope, receive, send)
            return
        except ClientGone:
            return
        client = client_key(client_address(scope, self.trusted))
        login_key = f"{username.casefold()}\x00{client}"
        wait = max(self.per_login.retry_after(login_key), self.per_client.retry_after(client))
        if wait > 0:
            seconds = str(math.ceil(wait))
            response = error_response(
                429,
                "too_many_attempts",
                f"too many failed logins from this client; retry in {seconds} s",
                headers={"retry-after": seconds},
            )
            await response(scope, receive, send)
            return
        status, session = 0, False

        async def watch(message: Message) -> None:
            nonlocal status, session
            if message["type"] == "http.response.start":
                status = message["status"]
                session = any(
                    name == b"set-cookie" and value.startswith(SESSION_SET)
                    for name, value in message.get("headers", [])
                )
            await send(message)

        await self.app(scope, replay(body, receive), watch)
        # Success is a new session cookie: a failed login with format=html answers 200
        # with the form again, so the status alone would not tell.
        if session and status < 400:
            self.per_login.clear(login_key)
        elif status < 500:
            self.per_login.fail(login_key)
            self.per_client.fail(client)
