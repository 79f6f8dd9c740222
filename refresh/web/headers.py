"""Security headers on every response, and no WebSocket: the outermost middleware.

- `X-Content-Type-Options: nosniff`: a browser never guesses a JSON body is HTML;
- `X-Frame-Options: DENY` and `frame-ancestors 'none'`: no page is framed (clickjacking of
  the admin's buttons);
- `Referrer-Policy: same-origin`: an admin URL (with a row id) never leaves in a Referer;
- `Content-Security-Policy`: the two HTML pages (the admin at /admin/, the API docs at
  /api/docs) load scripts, styles, fonts and data from the app itself only, send what
  they fetch to the app only, and run no inline script (ours are files:
  refresh/compat/piccolo_admin_ui.py, refresh/web/docs.py), nor eval. The admin's
  styles allow 'unsafe-inline': piccolo-admin's Vue components write style attributes
  and <style> elements, which no nonce can cover (a style cannot run code); the docs'
  do not. Everything else (JSON, health, metrics) loads nothing at all.
  tests/browser/test_csp_browser.py renders both pages under their policy and fails on
  any violation the browser reports.
A redirect's Location names the path alone, whatever Host the request claimed
(refresh/web/redirects.py). No route speaks WebSocket, and the request path
(refresh/web/middleware.py) authenticates HTTP only: a WebSocket handshake is refused
before any app sees it.
"""

from __future__ import annotations

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from refresh.web.redirects import relative_redirect


def policy(*directives: str) -> bytes:
    return "; ".join(directives).encode()


SAME_ORIGIN = (
    "default-src 'self'",
    "script-src 'self'",
    "img-src 'self' data:",  # both bundles draw icons as data: SVG in their CSS
    "connect-src 'self'",
    "object-src 'none'",
    "base-uri 'none'",
    "form-action 'self'",
    "frame-ancestors 'none'",
)
DOCS_CSP = policy(*SAME_ORIGIN, "style-src 'self'")
# piccolo-admin's Vue components write style attributes and <style> elements
ADMIN_CSP = policy(*SAME_ORIGIN, "style-src 'self' 'unsafe-inline'")
# A JSON answer (or any other) is never a page: it may load nothing.
NO_PAGE_CSP = policy("default-src 'none'", "frame-ancestors 'none'")
# The paths whose answers are pages (the admin's HTML, its assets and API; the docs).
PAGES = (("/admin", ADMIN_CSP), ("/api/docs", DOCS_CSP))

HEADERS = [
    (b"x-content-type-options", b"nosniff"),
    (b"x-frame-options", b"DENY"),
    (b"referrer-policy", b"same-origin"),
]


def content_security_policy(path: str) -> bytes:
    for prefix, csp in PAGES:
        if path == prefix or path.startswith(prefix + "/"):
            return csp
    return NO_PAGE_CSP


class SecurityHeaders:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "websocket":
            await send({"type": "websocket.close", "code": 1008})  # policy violation
            return
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = [*HEADERS, (b"content-security-policy", content_security_policy(scope["path"]))]

        async def with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                own = message.get("headers", [])
                if 300 <= message["status"] < 400:  # a new list: the message's is not changed
                    own = relative_redirect(own, scope)
                present = {name.lower() for name, _ in own}
                extra = [(n, v) for n, v in headers if n not in present]
                message = {**message, "headers": [*own, *extra]}
            await send(message)

        await self.app(scope, receive, with_headers)
