"""Security headers on every response (API, admin, health, docs, errors) and WebSocket
handshakes refused before any app sees them (refresh/web/headers.py)."""

from __future__ import annotations

from typing import Any

import pytest
from starlette.testclient import TestClient
from starlette.websockets import WebSocketDisconnect

from refresh.web.headers import ADMIN_CSP, DOCS_CSP

EXPECTED = {
    "x-content-type-options": "nosniff",
    "x-frame-options": "DENY",
    "referrer-policy": "same-origin",
}


async def test_every_kind_of_response_carries_the_headers(client: Any, tenant_a: Any) -> None:
    responses = [
        await client.get("/healthz"),
        await client.get("/api/docs"),
        await client.get("/api/projects", headers=tenant_a.headers),
        await client.get("/api/projects"),  # 401
        await client.get("/admin/"),
        await client.get("/admin/api/tables/task/"),  # 401 from the admin
        await client.get("/nowhere"),
    ]
    for response in responses:
        for name, value in EXPECTED.items():
            assert response.headers.get(name) == value, (response.request.url, name)
        assert "frame-ancestors 'none'" in response.headers["content-security-policy"]


async def test_pages_get_their_policy_and_everything_else_loads_nothing(
    client: Any, tenant_a: Any
) -> None:
    """What each policy allows is checked in the browser (tests/browser/test_csp_browser.py);
    here, which answer gets which."""
    docs = ["/api/docs", "/api/docs/init.js", "/api/docs/swagger-ui.css"]
    admin = ["/admin/", "/admin/api/tables/task/", "/admin/refresh-ui.js"]
    nothing = ["/healthz", "/api/projects", "/api/openapi.json", "/api/docsx", "/adminx", "/x"]
    for path in docs + admin + nothing:
        response = await client.get(path, headers=tenant_a.headers)
        policy = response.headers["content-security-policy"]
        if path in docs:
            assert policy == DOCS_CSP.decode(), path
            assert "script-src 'self'" in policy and "unsafe" not in policy
        elif path in admin:
            assert policy == ADMIN_CSP.decode(), path
            assert "script-src 'self'" in policy and "unsafe-eval" not in policy
        else:
            assert policy == "default-src 'none'; frame-ancestors 'none'", path


@pytest.mark.parametrize("path", ["/api/projects", "/admin/api/tables/task/", "/healthz"])
def test_websocket_handshakes_are_refused(app: Any, path: str) -> None:
    test_client = TestClient(app)  # no `with`: the session's lifespan owns the pools
    with pytest.raises(WebSocketDisconnect) as refused:
        with test_client.websocket_connect(path):
            pass
    assert refused.value.code == 1008
