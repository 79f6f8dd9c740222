"""A redirect names the path alone: Starlette's trailing-slash redirect, and FastAPI's
in piccolo-admin, named the request's Host header and scheme (`Host: evil.example` ->
`http://evil.example/api/tasks`). Through the real app: the API, the app's own routes,
the admin."""

from __future__ import annotations

import uuid
from typing import Any

import httpx
import pytest

from refresh.web.redirects import relative, relative_redirect

EVIL = {"host": "evil.example"}


async def test_the_location_is_the_path_whatever_the_host(
    client: httpx.AsyncClient, tenant_a: Any
) -> None:
    response = await client.get(
        "/api/tasks/?limit=5&sort=priority", headers={**tenant_a.headers, **EVIL}
    )
    assert response.status_code == 307
    assert response.headers["location"] == "/api/tasks?limit=5&sort=priority"
    followed = await client.get(response.headers["location"], headers=tenant_a.headers)
    assert followed.status_code == 200 and len(followed.json()["data"]) <= 5


@pytest.mark.parametrize(
    ("path", "location"),
    [
        ("/healthz/", "/healthz"),
        ("/healthz//", "/healthz"),
        ("/admin/public/login", "/admin/public/login/"),  # FastAPI's, the other way
        ("/admin", "/admin/"),
    ],
)
async def test_the_apps_own_routes_and_the_admins_redirect_the_same_way(
    client: httpx.AsyncClient, path: str, location: str
) -> None:
    response = await client.get(path, headers=EVIL)
    assert (response.status_code, response.headers["location"]) == (307, location)
    assert response.headers["x-frame-options"] == "DENY"  # the other headers stay


async def test_a_tenant_learns_nothing_of_anothers_rows_from_a_redirect(
    client: httpx.AsyncClient, tenant_a: Any, tenant_b: Any
) -> None:
    created = await client.post(
        "/api/projects", json={"name": f"slash-{uuid.uuid4().hex[:6]}"}, headers=tenant_a.headers
    )
    assert created.status_code == 201, created.text
    theirs, nobodys = created.json()["id"], str(uuid.uuid4())
    answers = []
    for project in (theirs, nobodys):
        response = await client.get(f"/api/projects/{project}/", headers=tenant_b.headers)
        assert response.status_code == 307
        answers.append(response.headers["location"] == f"/api/projects/{project}")
        followed = await client.get(f"/api/projects/{project}", headers=tenant_b.headers)
        answers.append(followed.status_code)
    assert answers == [True, 404, True, 404]


@pytest.mark.parametrize(
    ("location", "made"),
    [
        ("http://evil.example/api/tasks?a=1#f", "/api/tasks?a=1#f"),
        ("https://EVIL.example/x", "/x"),
        ("http://evil.example//other.example/x", "/other.example/x"),
        ("http://evil.example/\\other.example", "/other.example"),
        ("http://evil.example", "/"),
        ("/already/relative", None),
        ("http://other.example/x", None),  # another host: left as it is
        ("ftp://evil.example/x", None),
    ],
)
def test_a_location_naming_the_claimed_host_becomes_its_path(
    location: str, made: str | None
) -> None:
    assert relative(location, frozenset({"evil.example"})) == made


@pytest.mark.parametrize("host", ["evil.example:", "evil.example/x", "a@evil.example"])
async def test_a_malformed_host_does_not_put_the_servers_address_in_the_location(
    client: httpx.AsyncClient, host: str
) -> None:
    """Starlette then builds the URL from the server's address (here the test client's
    refresh.test; behind a proxy the app's internal one)."""
    response = await client.get("/healthz/", headers={"host": host})
    assert (response.status_code, response.headers["location"]) == (307, "/healthz")


def test_without_a_host_header_the_servers_address_is_the_apps_own() -> None:
    scope = {"headers": [], "server": ("10.0.0.5", 8000)}
    headers = [(b"location", b"http://10.0.0.5:8000/healthz"), (b"x-other", b"kept")]
    assert relative_redirect(headers, scope) == [(b"location", b"/healthz"), (b"x-other", b"kept")]
    ipv6 = {"headers": [], "server": ("::1", 80)}
    assert relative_redirect([(b"location", b"http://[::1]/x")], ipv6) == [(b"location", b"/x")]
