"""refresh/compat/piccolo_admin_ui.py on piccolo-admin's real page: our stylesheet and
script go in its <head>, a site's notice first in its <body>, outside the element the
single-page app renders into. Fails if piccolo-admin's page changes those tags."""

from __future__ import annotations

from typing import Any

import httpx
from piccolo.columns import Varchar
from piccolo.table import Table
from piccolo_admin.endpoints import create_admin

from refresh.compat.piccolo_admin_ui import with_ui_fixes


class Note(Table):
    text = Varchar(length=20)


async def root_page(app: Any) -> str:
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://t") as client:
        response = await client.get("/")
    assert response.status_code == 200
    assert int(response.headers["content-length"]) == len(response.content)
    return response.text


async def test_the_notice_opens_the_body_and_the_assets_close_the_head() -> None:
    admin = create_admin([Note], auto_include_related=False)

    def notice(scope: Any) -> str | None:
        return '<div class="refresh-notice">hello</div>' if scope.get("state") else None

    app = with_ui_fixes(admin, ["note"], notice=notice)

    async def with_state(scope: Any, receive: Any, send: Any) -> None:
        await app({**scope, "state": {"x": 1}}, receive, send)

    shown = await root_page(with_state)
    assert '<body><div class="refresh-notice">hello</div>' in shown
    assert shown.index("refresh-notice") < shown.index('<div id="app">')
    assert shown.index("refresh-ui.js") < shown.index("</head>") < shown.index("<body>")
    plain = await root_page(app)
    assert 'refresh-notice">' not in plain and "refresh-ui.css" in plain
