"""The caller's tenant and its members.

Every member reads the member list; only a tenant admin creates, changes or deletes
members. That rule is a policy in the database (apps/tenants/tables.py), not a check
here: this module only turns its outcome into the right status code.
"""

from __future__ import annotations

import functools
import uuid
from typing import Any

from piccolo.query.methods.select import Select
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import Response

from apps.tenants import schemas
from apps.tenants.tables import Member, Tenant
from refresh.db.claims import TenantRole
from refresh.lifecycle.api import ExportRunning, TenantGone, export_in_request, remove
from refresh.web.api import Api
from refresh.web.requests import claims_of, found
from refresh.web.resources import Resource
from refresh.web.responses import JSONResponse, TemporaryFileResponse

api = Api()
TAG = "tenant"
ADMINS_ONLY = "only tenant admins can change members"

TENANT_COLUMNS = (Tenant.id, Tenant.slug, Tenant.name, Tenant.created_at, Tenant.updated_at)
MEMBER_COLUMNS = (
    Member.id,
    Member.user_id,
    Member.email,
    Member.display_name,
    Member.role,
    Member.created_at,
    Member.updated_at,
)


def export_headers(slug: str) -> dict[str, str]:
    return {
        "content-type": "application/gzip",
        "content-disposition": f'attachment; filename="{slug}.jsonl.gz"',
        "accept-ranges": "none",
    }


@api.route(
    "GET",
    "/tenant/export",
    summary="The caller's tenant exported (tenant admins): every row of every tenant table, "
    "as the file `piccolo tenants export` writes (gzip JSON lines), streamed; audited",
    tag=TAG,
    errors=(403, 404, 429),
)
async def export_tenant(request: Request) -> Response:
    claims = claims_of(request)
    if claims.tenant_role != TenantRole.admin:
        raise HTTPException(403, "only tenant admins can export the tenant")
    if request.method == "HEAD":
        # A GET's headers without its body: no export is made, and none is audited
        tenant = await Tenant.select(Tenant.slug).first()  # RLS: the caller's row only
        return Response(status_code=200, headers=export_headers(found(tenant, "tenant")["slug"]))
    try:
        path, slug = await export_in_request(claims)
    except ExportRunning as running:
        raise HTTPException(429, str(running), headers={"retry-after": "10"}) from None
    except TenantGone as gone:  # erased meanwhile: nothing of it leaves
        raise HTTPException(404, str(gone)) from None
    request.state.after_commit = TemporaryFileResponse(
        str(path), functools.partial(remove, path), headers=export_headers(slug)
    )
    return Response(status_code=200)  # replaced by the file once committed


@api.route(
    "GET", "/tenant", summary="The caller's tenant", tag=TAG, response=schemas.Tenant, errors=(404,)
)
async def get_tenant(request: Request) -> Response:
    row = await Tenant.select(*TENANT_COLUMNS).first()  # RLS: the caller's row only
    return JSONResponse(found(row, "tenant"))


async def refuse(member_id: uuid.UUID) -> None:
    """No row changed: 403 if the caller can see the member (the admin policy said no),
    404 if not (another tenant's member, or none at all: indistinguishable)."""
    if await Member.exists().where(Member.id == member_id):
        raise HTTPException(403, ADMINS_ONLY)
    raise HTTPException(404, "member not found")


members = Resource(
    Member,
    "/members",
    "member",
    tag=TAG,
    columns=MEMBER_COLUMNS,
    response=schemas.Member,
    create_model=schemas.MemberCreate,
    patch_model=schemas.MemberPatch,
    on_unchanged=refuse,
)


def by_role(select: Select[Any], query: schemas.MemberListQuery) -> Select[Any]:
    return select if query.role is None else select.where(Member.role == query.role)


members.list(
    api,
    summary="List the tenant's members",
    query=schemas.MemberListQuery,
    response=schemas.MemberList,
    filters=by_role,
    order=(Member.display_name, Member.id),
)
members.get(api, summary="Get a member")
# A non-admin's insert fails the admins-only WITH CHECK: 403 via the error handler.
members.create(api, summary="Add a member (tenant admins)", errors=(403, 409))
members.patch(api, summary="Change a member (tenant admins)", errors=(403, 404))
members.delete(api, summary="Remove a member (tenant admins)", errors=(403, 404))
