"""A redirect to this app names the path alone, never the host the request claimed.

Starlette's router (a trailing slash), FastAPI's and so piccolo-admin's build a
redirect's Location as an absolute URL from the request's Host header and scheme: a
request with `Host: evil.example` was sent to `http://evil.example/api/tasks` (a cache
keyed by path then serves that redirect to everyone), and behind a TLS-terminating proxy
the redirect pointed to plain http; without a Host header, or with a malformed one,
Starlette named the server's own (internal) address instead. No library has an option
for this; the security headers' middleware (refresh/web/headers.py), which sees every
response, makes such a Location relative: the path and query, resolved by the client
against the URL it asked for. A path starting with `//` or `/\\` (another host to a
browser) loses its extra slashes. A Location naming another host (none here) is left as
it is.
"""

from __future__ import annotations

from urllib.parse import urlsplit, urlunsplit

from starlette.types import Scope

Headers = list[tuple[bytes, bytes]]


def own_hosts(scope: Scope) -> frozenset[str]:
    """The hosts a library may name this request by (lowercase): its Host header, and the
    server's address, which Starlette uses when the header is missing or malformed
    (that would name the app's internal address, and plain http, in a Location)."""
    hosts = set()
    for name, value in scope.get("headers", ()):
        if name == b"host":
            hosts.add(bytes(value).decode("latin-1").lower())
            break
    server = scope.get("server")
    if server is not None:
        host, port = server
        host = f"[{host}]" if ":" in host and not host.startswith("[") else host
        hosts.update({host.lower(), f"{host}:{port}".lower()})
    return frozenset(hosts)


def relative(location: str, hosts: frozenset[str]) -> str | None:
    """The path and query of `location` if it names one of `hosts`, over http(s); else
    None."""
    parts = urlsplit(location)
    if parts.scheme not in ("http", "https") or parts.netloc.lower() not in hosts:
        return None
    path = "/" + parts.path.lstrip("/\\")
    return urlunsplit(("", "", path, parts.query, parts.fragment))


def relative_redirect(headers: Headers, scope: Scope) -> Headers:
    """`headers` of a redirect, its Location made relative if it names this request's host."""
    out = []
    for name, value in headers:
        if name.lower() == b"location":
            path = relative(value.decode("latin-1"), own_hosts(scope))
            if path is not None:
                value = path.encode("latin-1")
        out.append((name, value))
    return out
