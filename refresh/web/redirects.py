"""A redirect to this app names the path alone, never the host the request claimed.

Starlette's router (a trailing slash), FastAPI's and so piccolo-admin's build a
redirect's Location as an absolute URL from the request's Host header and scheme: a
request with `Host: evil.example` was sent to `http://evil.example/api/tasks` (a cache
keyed by path then serves that redirect to everyone), and behind a TLS-terminating proxy
the redirect pointed to plain http. No library has an option for this; the security
headers' middleware (refresh/web/headers.py), which sees every response, makes such a
Location relative: the path and query, resolved by the client against the URL it asked
for. A path starting with `//` or `/\\` (another host to a browser) loses its extra
slashes. A Location naming another host (none here) is left as it is.
"""

from __future__ import annotations

from urllib.parse import urlsplit, urlunsplit

from starlette.types import Scope

Headers = list[tuple[bytes, bytes]]


def claimed_host(scope: Scope) -> bytes | None:
    """The Host header of the request (what the libraries build the URL from)."""
    for name, value in scope.get("headers", ()):
        if name == b"host":
            return bytes(value).lower()
    return None


def relative(location: str, host: str) -> str | None:
    """The path and query of `location` if it names `host`, over http(s); else None."""
    parts = urlsplit(location)
    if parts.scheme not in ("http", "https") or parts.netloc.lower() != host:
        return None
    path = "/" + parts.path.lstrip("/\\")
    return urlunsplit(("", "", path, parts.query, parts.fragment))


def relative_redirect(headers: Headers, host: bytes | None) -> Headers:
    """`headers` of a redirect, its Location made relative if it names the request's host."""
    if host is None:
        return headers
    out = []
    for name, value in headers:
        if name.lower() == b"location":
            path = relative(value.decode("latin-1"), host.decode("latin-1"))
            if path is not None:
                value = path.encode("latin-1")
        out.append((name, value))
    return out
