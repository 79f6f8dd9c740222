"""Security headers on every response, and no WebSocket: the outermost middleware.

- `X-Content-Type-Options: nosniff`: a browser never guesses a JSON body is HTML;
- `X-Frame-Options: DENY` and `frame-ancestors 'none'`: no page is framed (clickjacking of
  the admin's buttons);
- `Referrer-Policy: same-origin`: an admin URL (with a row id) never leaves in a Referer.
No route speaks WebSocket, and the request path (refresh/web/middleware.py) authenticates
HTTP only: a WebSocket handshake is refused before any app sees it.
"""

from __future__ import annotations

from starlette.types import ASGIApp, Message, Receive, Scope, Send

HEADERS = [
    (b"x-content-type-options", b"nosniff"),
    (b"x-frame-options", b"DENY"),
    (b"referrer-policy", b"same-origin"),
    (b"content-security-policy", b"frame-ancestors 'none'"),
]


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

        async def with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                present = {name.lower() for name, _ in message.get("headers", [])}
                extra = [(n, v) for n, v in HEADERS if n not in present]
                message = {**message, "headers": [*message.get("headers", []), *extra]}
            await send(message)

        await self.app(scope, receive, with_headers)
