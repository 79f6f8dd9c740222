"""The admin's hostile-input catalogue, from two tenants' side: malformed list parameters
and edits of what cannot change get a JSON 4xx (never a 500), change nothing, and answer
the same whether or not another tenant uses the value; database errors come back in the
API's words, without constraint or table names."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Any

import pytest

from refresh.db.clients import write_client
from tests.apps.admin.support import AdminSession, new_operator, new_staff, open_session
from tests.apps.tasks.support import (
    assert_error,
    comment_row,
    fresh_tenant,
    new_project,
    new_task,
    project_row,
    table_counts,
)
from tests.conftest import TenantFixture


@dataclass
class Side:
    tenant: TenantFixture
    staff: AdminSession
    project: str
    task: str
    comment: str


async def make_side(app: Any, client: Any, prefix: str) -> Side:
    tenant = await fresh_tenant(prefix)
    project = (await new_project(client, tenant, f"{prefix} project"))["id"]
    task = (await new_task(client, tenant, project))["id"]
    comment = await client.post(
        f"/api/tasks/{task}/comments", json={"body": "hello"}, headers=tenant.headers
    )
    assert comment.status_code == 201, comment.text
    staff = await open_session(app, await new_staff(tenant.id))
    return Side(tenant, staff, project, task, comment.json()["id"])


@pytest.fixture(scope="module")
async def sides(app: Any, client: Any) -> tuple[Side, Side]:
    return await make_side(app, client, "inp-a"), await make_side(app, client, "inp-b")


@pytest.fixture(autouse=True)
def _no_server_errors(no_server_errors: Any) -> None:
    """Nothing here is a server fault."""


def assert_clean(response: Any, status: int) -> dict[str, Any]:
    error = assert_error(response, status)
    for leak in ("_pkey", "_key", "_fkey", "_check", "violates", "constraint", "Traceback"):
        assert leak not in response.text, response.text
    return error


@pytest.mark.parametrize(
    ("table", "params"),
    [
        ("project", {"__order": "nope"}),
        ("project", {"__order": "-"}),
        ("project", {"__order": "name,-nope"}),
        ("task", {"__order": "project_id.name"}),
        ("task", {"__visible_fields": "title,nope"}),
        ("audit_log", {"changes": "{bad"}),
        ("audit_log", {"changes": "[1,"}),
    ],
)
async def test_bad_list_parameters_are_400_for_staff_and_operators(
    sides: tuple[Side, Side], app: Any, table: str, params: dict[str, str]
) -> None:
    operator = await open_session(app, await new_operator())
    for session in (sides[0].staff, sides[1].staff, operator):
        for path in (f"/tables/{table}/", f"/tables/{table}/count/"):
            assert_clean(await session.get(path, **params), 400)


async def test_an_id_cannot_be_edited_and_another_tenants_ids_are_not_revealed(
    sides: tuple[Side, Side],
) -> None:
    for side, other in (sides, sides[::-1]):
        before = await project_row(side.project)
        counts = await table_counts()
        path = f"/tables/project/{side.project}/"
        theirs = await side.staff.patch(path, {"id": other.project})
        unused = await side.staff.patch(path, {"id": str(uuid.uuid4())})
        assert_clean(theirs, 422)
        assert theirs.json() == unused.json()  # the same answer: no existence oracle
        assert await project_row(side.project) == before
        assert await project_row(other.project) is not None
        assert await table_counts() == counts


async def test_an_edit_of_only_bookkeeping_columns_is_422_and_changes_nothing(
    sides: tuple[Side, Side],
) -> None:
    for side in sides:
        before = await project_row(side.project)
        path = f"/tables/project/{side.project}/"
        for body in (
            {"created_at": "2020-01-01T00:00:00"},
            {"updated_at": "2020-01-01T00:00:00"},
            {"id": side.project},
        ):
            assert_clean(await side.staff.patch(path, body), 422)
        assert await project_row(side.project) == before


async def test_a_comments_author_cannot_be_changed_in_the_admin(
    sides: tuple[Side, Side],
) -> None:
    for side in sides:
        before = await comment_row(side.comment)
        assert before is not None
        [row] = await write_client.fetch(
            "select id from member where tenant_id = $1 and id <> $2 limit 1",
            side.tenant.id,
            before["author_id"],
        )
        other_author = row["id"]
        path = f"/tables/comment/{side.comment}/"
        for author in (other_author, str(uuid.uuid4())):
            assert_clean(await side.staff.patch(path, {"author_id": str(author)}), 422)
        # the form sends the author back unchanged with an edit: that edit goes through
        saved = await side.staff.patch(
            path, {"author_id": str(before["author_id"]), "body": "edited"}
        )
        assert saved.status_code == 200, saved.text
        after = await comment_row(side.comment)
        assert after is not None and after["author_id"] == before["author_id"]
        assert after["body"] == "edited"


async def test_a_removed_members_comment_stays_authorless_in_the_admin(
    sides: tuple[Side, Side],
) -> None:
    """A comment whose author was removed (author_id null): the edit form sends the null
    back and the edit goes through; giving the comment to someone is refused."""
    for side in sides:
        orphan = uuid.uuid4()
        await write_client.fetch(
            "insert into comment (id, tenant_id, task_id, author_id, body)"
            " values ($1, $2, $3, null, 'said by a former member') returning id",
            orphan,
            side.tenant.id,
            uuid.UUID(side.task),
        )
        [row] = await write_client.fetch(
            "select id from member where tenant_id = $1 limit 1", side.tenant.id
        )
        path = f"/tables/comment/{orphan}/"
        assert_clean(await side.staff.patch(path, {"author_id": str(row["id"])}), 422)
        # staff cannot make one: an author left empty could never be set
        counts = await table_counts()
        body = {"body": "no author", "task_id": side.task, "author_id": None}
        error = assert_clean(await side.staff.post("/tables/comment/", body), 422)
        assert "author_id must be given" in str(error), error
        assert await table_counts() == counts
        saved = await side.staff.patch(path, {"author_id": None, "body": "moderated"})
        assert saved.status_code == 200, saved.text
        after = await comment_row(str(orphan))
        assert after is not None and after["author_id"] is None
        assert after["body"] == "moderated"


async def test_an_operator_cannot_make_an_authorless_comment_either(
    sides: tuple[Side, Side], app: Any
) -> None:
    """As staff cannot (above): the author, left empty or out, could never be set later;
    for either tenant, nothing is created."""
    operator = await open_session(app, await new_operator())
    for side in sides:
        counts = await table_counts()
        base = {"body": "no author", "task_id": side.task, "tenant_id": str(side.tenant.id)}
        for body in ({**base, "author_id": None}, base):
            error = assert_clean(await operator.post("/tables/comment/", body), 422)
            assert "author_id must be given" in str(error), error
        assert await table_counts() == counts


async def test_database_errors_come_back_in_the_apis_words(sides: tuple[Side, Side]) -> None:
    for side in sides:
        before = await comment_row(side.comment)
        response = await side.staff.patch(f"/tables/comment/{side.comment}/", {"body": "   "})
        error = assert_clean(response, 422)
        assert error["code"] == "validation_error"
        assert await comment_row(side.comment) == before


async def test_a_comment_cannot_be_pointed_at_another_tenants_task(
    sides: tuple[Side, Side], app: Any
) -> None:
    """Neither tenant staff (inside RLS, where a plain foreign key check would still find
    the other tenant's task) nor an operator (no RLS at all) can put a comment under
    another tenant's task: the composite key (tenant_id, task_id) refuses it, with the
    answer an unused id gets. The API's own check (tests/apps/tasks/test_comments_api.py)
    is a different layer."""
    operator = await open_session(app, await new_operator())
    for side, other in (sides, sides[::-1]):
        for session in (side.staff, operator):
            before, counts = await comment_row(side.comment), await table_counts()
            path = f"/tables/comment/{side.comment}/"
            theirs = await session.patch(path, {"task_id": other.task})
            unused = await session.patch(path, {"task_id": str(uuid.uuid4())})
            assert_clean(theirs, 422)
            assert theirs.json() == unused.json()
            assert await comment_row(side.comment) == before
            assert await table_counts() == counts
        # a new comment under the other tenant's task, from the staff's add form
        counts = await table_counts()
        member = await write_client.fetch(
            "select id from member where tenant_id = $1 limit 1", side.tenant.id
        )
        body = {"body": "intrusion", "author_id": str(member[0]["id"])}
        theirs = await side.staff.post("/tables/comment/", {**body, "task_id": other.task})
        unused = await side.staff.post("/tables/comment/", {**body, "task_id": str(uuid.uuid4())})
        assert_clean(theirs, 422)
        assert theirs.json() == unused.json()
        assert await table_counts() == counts
