"""The caller's tenant and its members.

Every member reads the member list; only a tenant admin creates, changes or deletes
members. That rule is a restrictive policy in the database (apps/tenants/tables.py),
not a check here: this module only turns its outcome into the right status code.
"""

from __future__ import annotations

from typing import Any

from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import Response

from apps.tenants import schemas
from apps.tenants.tables import Member, Tenant
from refresh.web.api import Api, parse_query
from refresh.web.requests import claims_of, found, json_body, path_uuid
from refresh.web.responses import JSONResponse

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


@api.route(
    "GET", "/tenant", summary="The caller's tenant", tag=TAG, response=schemas.Tenant, errors=(404,)
)
async def get_tenant(request: Request) -> Response:
    row = await Tenant.select(*TENANT_COLUMNS).first()  # RLS: the caller's row only
    return JSONResponse(found(row, "tenant"))


@api.route(
    "GET",
    "/members",
    summary="List the tenant's members",
    tag=TAG,
    query=schemas.MemberListQuery,
    response=schemas.MemberList,
)
async def list_members(request: Request) -> Response:
    query = parse_query(request, schemas.MemberListQuery)
    select = Member.select(*MEMBER_COLUMNS).order_by(Member.display_name, Member.id)
    if query.role is not None:
        select = select.where(Member.role == query.role)
    return JSONResponse({"data": await select})


@api.route(
    "GET", "/members/{id}", summary="Get a member", tag=TAG, response=schemas.Member, errors=(404,)
)
async def get_member(request: Request) -> Response:
    row = await Member.select(*MEMBER_COLUMNS).where(Member.id == path_uuid(request)).first()
    return JSONResponse(found(row, "member"))


@api.route(
    "POST",
    "/members",
    summary="Add a member (tenant admins)",
    tag=TAG,
    status=201,
    body=schemas.MemberCreate,
    response=schemas.Member,
    errors=(403, 409),
)
async def create_member(request: Request) -> Response:
    body = await json_body(request, schemas.MemberCreate)
    # A non-admin's insert fails the restrictive WITH CHECK: 403 via the error handler.
    rows = await Member.insert(
        Member(tenant_id=claims_of(request).tenant_id, **body.model_dump())
    ).returning(*MEMBER_COLUMNS)
    return JSONResponse(rows[0], status_code=201)


@api.route(
    "PATCH",
    "/members/{id}",
    summary="Change a member (tenant admins)",
    tag=TAG,
    body=schemas.MemberPatch,
    response=schemas.Member,
    errors=(403, 404),
)
async def update_member(request: Request) -> Response:
    member_id = path_uuid(request)
    changes: dict[Any, Any] = (await json_body(request, schemas.MemberPatch)).model_dump(
        exclude_unset=True
    )
    if not changes:
        return await get_member(request)
    rows = await Member.update(changes).where(Member.id == member_id).returning(*MEMBER_COLUMNS)
    if not rows:
        await refuse(member_id)
    return JSONResponse(rows[0])


@api.route(
    "DELETE",
    "/members/{id}",
    summary="Remove a member (tenant admins)",
    tag=TAG,
    status=204,
    errors=(403, 404),
)
async def delete_member(request: Request) -> Response:
    member_id = path_uuid(request)
    rows = await Member.delete().where(Member.id == member_id).returning(Member.id)
    if not rows:
        await refuse(member_id)
    return Response(status_code=204)


async def refuse(member_id: object) -> None:
    """No row changed: 403 if the caller can see the member (the admin policy said no),
    404 if not (another tenant's member, or none at all: indistinguishable)."""
    if await Member.exists().where(Member.id == member_id):
        raise HTTPException(403, ADMINS_ONLY)
    raise HTTPException(404, "member not found")
