"""Security headers on every response (API, admin, health, docs, errors) and WebSocket
handshakes refused before any app sees them (refresh/web/headers.py)."""

from __future__ import annotations

from typing import Any

import pytest
from starlette.testclient import TestClient
from starlette.websockets import WebSocketDisconnect

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


@pytest.mark.parametrize("path", ["/api/projects", "/admin/api/tables/task/", "/healthz"])
def test_websocket_handshakes_are_refused(app: Any, path: str) -> None:
    test_client = TestClient(app)  # no `with`: the session's lifespan owns the pools
    with pytest.raises(WebSocketDisconnect) as refused:
        with test_client.websocket_connect(path):
            pass
    assert refused.value.code == 1008
