"""Comments on a task: members read and write; an author edits or deletes their own.

Removing a member keeps their comments, with no author (the key's SET NULL): the
discussion of a task does not lose its past when someone leaves; from then on only a
tenant admin edits or deletes them."""

from __future__ import annotations

import uuid
from typing import Any, NoReturn

from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import Response

from apps.tasks import schemas
from apps.tasks.tables import Comment, Task
from apps.tenants.tables import Member
from refresh.db.claims import TenantRole
from refresh.db.refusals import warn_if_unchanged
from refresh.web.api import Api, parse_query
from refresh.web.pagination import SortKey, after_cursor, order_by, page
from refresh.web.requests import claims_of, found, json_body, path_uuid
from refresh.web.responses import JSONResponse

api = Api()
TAG = "comments"
COLUMNS = (
    Comment.id,
    Comment.task_id,
    Comment.author_id,
    Comment.author_id.display_name.as_alias("author_name"),
    Comment.body,
    Comment.created_at,
    Comment.updated_at,
)

OLDEST_FIRST = SortKey("created_at", "comment.created_at", "timestamptz", "created_at")


async def visible_task(request: Request) -> uuid.UUID:
    task_id = path_uuid(request, "task_id")
    if not await Task.exists().where(Task.id == task_id):
        raise HTTPException(404, "task not found")
    return task_id


async def caller_member_id(request: Request) -> uuid.UUID:
    row = await Member.select(Member.id).where(Member.user_id == claims_of(request).user_id).first()
    if row is None:
        raise HTTPException(403, "only members of the tenant can comment")
    member_id: uuid.UUID = row["id"]
    return member_id


async def fetch_comment(task_id: uuid.UUID, comment_id: uuid.UUID) -> dict[str, Any]:
    row: dict[str, Any] | None = (
        await Comment.select(*COLUMNS)
        .where((Comment.id == comment_id) & (Comment.task_id == task_id))
        .first()
    )
    return found(row, "comment")


@api.route(
    "GET",
    "/tasks/{task_id}/comments",
    summary="Comments on a task, oldest first, a page at a time",
    tag=TAG,
    query=schemas.CommentListQuery,
    response=schemas.CommentList,
    errors=(404,),
)
async def list_comments(request: Request) -> Response:
    # Paged like every list: a task with thousands of long comments would otherwise be
    # one response of any size.
    params = parse_query(request, schemas.CommentListQuery)
    task_id = await visible_task(request)
    select = Comment.select(*COLUMNS).where(Comment.task_id == task_id)
    if params.cursor is not None:
        select = select.where(after_cursor(OLDEST_FIRST, False, params.cursor, "comment"))
    rows = await select.order_by(order_by(OLDEST_FIRST), Comment.id).limit(params.limit + 1)
    return JSONResponse(page(rows, params.limit, OLDEST_FIRST, False))


@api.route(
    "POST",
    "/tasks/{task_id}/comments",
    summary="Comment on a task",
    tag=TAG,
    status=201,
    body=schemas.CommentCreate,
    response=schemas.Comment,
    errors=(403, 404),
)
async def create_comment(request: Request) -> Response:
    body = await json_body(request, schemas.CommentCreate)
    task_id = await visible_task(request)
    author = await caller_member_id(request)
    rows = await Comment.insert(
        Comment(
            tenant_id=claims_of(request).tenant_id,
            task_id=task_id,
            author_id=author,
            body=body.body,
        )
    ).returning(Comment.id)
    return JSONResponse(await fetch_comment(task_id, rows[0]["id"]), status_code=201)


async def own_comment(request: Request) -> tuple[uuid.UUID, uuid.UUID]:
    """The comment exists on this task and the caller wrote it (or is a tenant admin)."""
    task_id, comment_id = path_uuid(request, "task_id"), path_uuid(request, "id")
    comment = await fetch_comment(task_id, comment_id)
    claims = claims_of(request)
    if claims.tenant_role is not TenantRole.admin and comment[
        "author_id"
    ] != await caller_member_id(request):
        raise HTTPException(403, "only the author or a tenant admin can change a comment")
    return task_id, comment_id


@api.route(
    "PATCH",
    "/tasks/{task_id}/comments/{id}",
    summary="Edit a comment",
    tag=TAG,
    body=schemas.CommentPatch,
    response=schemas.Comment,
    errors=(403, 404),
)
async def update_comment(request: Request) -> Response:
    body = await json_body(request, schemas.CommentPatch)
    task_id, comment_id = await own_comment(request)
    changed = (
        await Comment.update({Comment.body: body.body})
        .where(Comment.id == comment_id)
        .returning(Comment.id)
    )
    if not changed:
        await refused(comment_id, "update")
    return JSONResponse(await fetch_comment(task_id, comment_id))


@api.route(
    "DELETE",
    "/tasks/{task_id}/comments/{id}",
    summary="Delete a comment",
    tag=TAG,
    status=204,
    errors=(403, 404),
)
async def delete_comment(request: Request) -> Response:
    _, comment_id = await own_comment(request)
    deleted = await Comment.delete().where(Comment.id == comment_id).returning(Comment.id)
    if not deleted:
        await refused(comment_id, "delete")
    return Response(status_code=204)


async def refused(comment_id: uuid.UUID, command: str) -> NoReturn:
    """The comment own_comment read was not changed: if it is still there (not deleted
    meanwhile), a policy of `command` said no, which the log tells the developer; the
    client gets the 404 of a comment it cannot reach either way."""
    await warn_if_unchanged(Comment, comment_id, command)
    found(None, "comment")
    raise AssertionError("unreachable: found(None) raises the 404")
