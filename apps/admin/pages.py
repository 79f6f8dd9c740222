"""The operators' own pages, beside piccolo-admin's single-page app (linked from its
sidebar): the RLS status of every table, viewing the admin as a tenant, and (with
import_page.py) importing a tenant.

Served under /admin/operator/ for operators only: the gate (apps/admin/gate.py) routes
these paths here for an operator's session, inside their transaction (the write client,
every tenant), and everyone else to the staff site, which answers 404 as for any
operator page. Plain HTML forms, protected against cross-site requests by piccolo-api's
CSRF middleware (the same cookie as piccolo-admin's, sent back as a form field).
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from html import escape
from typing import Any

from piccolo_api.csrf.middleware import CSRFMiddleware
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, RedirectResponse, Response
from starlette.routing import Route
from starlette.types import ASGIApp

from apps.admin.gate import SESSION_COOKIE, AdminLogin
from apps.admin.rls_page import status_html, status_json
from apps.admin.view_as import CSRF_COOKIE, start_view, stop_view
from refresh.rls.status import collect_status
from refresh.tenancy.tables import tenant_root_table

TENANTS_SHOWN = 50
CSS = """
body { font: 14px/1.45 system-ui, sans-serif; margin: 0; color: #1d2733; background: #f5f7fa; }
nav { background: #2d3e50; padding: 10px 24px; }
nav a { color: #fff; margin-right: 18px; text-decoration: none; }
main { padding: 16px 24px; }
h1 { font-size: 20px; margin: 4px 0 8px; }
table { border-collapse: collapse; background: #fff; }
th, td { border: 1px solid #d6dde6; padding: 4px 8px; text-align: left; vertical-align: top; }
thead th { background: #e9eef4; position: sticky; top: 0; }
td.ok { color: #1b7f3b; } td.warn { color: #b3261e; font-weight: bold; } td.none { color: #778; }
td.number { text-align: right; }
ul.policies { margin: 0; padding-left: 16px; } code { font-size: 12px; }
.message { padding: 8px 12px; margin: 8px 0; background: #fff4d6; border: 1px solid #e0c060; }
.error { background: #fde7e7; border-color: #d08080; }
form.inline { display: inline; }
"""


def admin_root(request: Request) -> str:
    return request.scope.get("root_path", "") + "/"


def page(request: Request, title: str, body: str, status: int = 200) -> HTMLResponse:
    root = escape(admin_root(request))
    return HTMLResponse(
        '<!doctype html><html lang="en"><head><meta charset="utf-8">'
        f"<title>{escape(title)} · Refresh admin</title>"
        f'<link rel="stylesheet" href="{root}operator/style.css"></head><body>'
        f'<nav><a href="{root}">&larr; Admin</a>'
        f'<a href="{root}operator/rls-status/">RLS status</a>'
        f'<a href="{root}operator/view-as/">View as tenant</a>'
        f'<a href="{root}operator/import/">Import a tenant</a></nav>'
        f"<main>{body}</main></body></html>",
        status_code=status,
        headers={"cache-control": "no-store"},
    )


def csrf_field(request: Request) -> str:
    token = request.scope.get("csrftoken") or request.cookies.get(CSRF_COOKIE, "")
    return f'<input type="hidden" name="{CSRF_COOKIE}" value="{escape(token)}">'


def operator(request: Request) -> AdminLogin:
    login: AdminLogin = request.state.admin_login  # set by the gate, operators only
    return login


async def rls_status(request: Request) -> Response:
    rows = await collect_status()
    if request.query_params.get("format") == "json":
        return JSONResponse(status_json(rows))
    return page(request, "RLS status", status_html(rows))


async def view_as_page(request: Request, message: str = "", status: int = 200) -> Response:
    tenant = tenant_root_table()
    slug = tenant._meta.get_column_by_name("slug")
    search = request.query_params.get("q", "").strip()
    query = tenant.select(tenant._meta.primary_key, slug).order_by(slug).limit(TENANTS_SHOWN)
    if search:
        query = query.where(slug.ilike(f"%{search}%"))
    tenants = await query
    current = operator(request).view
    parts = ["<h1>View the admin as a tenant</h1>"]
    if message:
        parts.append(f'<p class="message error">{escape(message)}</p>')
    if current is not None:
        parts.append(
            f'<p class="message">You are viewing the admin as <b>{escape(current.slug)}</b>. '
            f'<form class="inline" method="post" action="stop/">{csrf_field(request)}'
            '<button type="submit">Stop viewing</button></form></p>'
        )
    parts.append(
        "<p>Browse the admin exactly as the tenant's staff see it: through row-level "
        "security, in their tenant's request transaction, read-only unless you choose "
        "<i>with changes</i>: then you change what their staff may, and every change is "
        "audited as yours. The audit log records the view (action <code>view</code>).</p>"
        f'<form method="get"><input name="q" value="{escape(search)}" '
        'placeholder="slug contains"> <button type="submit">Search</button></form>'
    )
    rows = "".join(
        f"<tr><td>{escape(row['slug'])}</td><td>"
        f'<form class="inline" method="post">{csrf_field(request)}'
        f'<input type="hidden" name="tenant" value="{row["id"]}">'
        f'<button type="submit" data-tenant="{escape(row["slug"])}">View as</button> '
        f'<button type="submit" name="writes" value="1" '
        f'data-tenant-writes="{escape(row["slug"])}">View as, with changes</button>'
        "</form></td></tr>"
        for row in tenants
    )
    parts.append(f"<table><thead><tr><th>Tenant</th><th></th></tr></thead><tbody>{rows}</tbody>")
    parts.append(f"</table><p>At most {TENANTS_SHOWN} tenants are listed: search by slug.</p>")
    return page(request, "View as tenant", "".join(parts), status)


async def form_of(request: Request) -> Any:
    # The CSRF middleware reads a form that carries its token, and leaves it in the scope
    # (the body is not replayed after it).
    return request.scope.get("form") or await request.form()


async def start(request: Request) -> Response:
    form = await form_of(request)
    raw = form.get("tenant")
    try:
        tenant_id = uuid.UUID(raw if isinstance(raw, str) else "")
    except ValueError:
        return await view_as_page(request, "choose a tenant to view the admin as", 422)
    writes = form.get("writes") == "1"
    token, username = request.cookies[SESSION_COOKIE], operator(request).username
    if not await start_view(token, username, tenant_id, writes):
        return await view_as_page(request, "there is no such tenant", 422)
    return RedirectResponse(admin_root(request), status_code=303)


async def stop(request: Request) -> Response:
    await stop_view(request.cookies[SESSION_COOKIE], operator(request).username)
    return RedirectResponse(admin_root(request), status_code=303)


async def stylesheet(request: Request) -> Response:
    return Response(CSS, media_type="text/css")


def operator_pages_app(
    allowed_hosts: Sequence[str] = (), more_routes: Sequence[Route] = ()
) -> ASGIApp:
    """The pages above, and `more_routes` (apps/admin/import_page.py, which uses this
    module's page helpers)."""
    app = Starlette(
        routes=[
            *more_routes,
            Route("/operator/rls-status/", rls_status, methods=["GET"]),
            Route("/operator/view-as/", view_as_page, methods=["GET"]),
            Route("/operator/view-as/", start, methods=["POST"]),
            Route("/operator/view-as/stop/", stop, methods=["POST"]),
            Route("/operator/style.css", stylesheet, methods=["GET"]),
        ]
    )
    return CSRFMiddleware(app, allowed_hosts=list(allowed_hosts), allow_form_param=True)
