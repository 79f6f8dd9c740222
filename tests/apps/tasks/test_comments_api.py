"""Comments on tasks: members read and write, authors (or tenant admins) edit and delete;
another tenant sees none of it and changes none of it."""

from __future__ import annotations

import uuid
from datetime import datetime

from apps.tasks import schemas
from apps.tenants.operations import ensure_member
from refresh.web.tokens import issue_token
from settings import get_settings
from tests.apps.tasks.support import (
    assert_error,
    comment_row,
    error_fields,
    member_id,
    new_project,
    new_task,
    table_counts,
    task_row,
)


async def a_task(client, tenant):
    project = await new_project(client, tenant, "Discussed")
    return await new_task(client, tenant, project["id"], title="Talk about me")


async def comment(client, tenant, task_id, body="hello", headers=None):
    response = await client.post(
        f"/api/tasks/{task_id}/comments", json={"body": body}, headers=headers or tenant.headers
    )
    assert response.status_code == 201, response.text
    return response.json()


async def second_member(tenant):
    """Another member of `tenant` and its headers."""
    user = f"other-{uuid.uuid4().hex[:8]}"
    await ensure_member(tenant.id, user, f"{user}@x.test", "Other Person", "member")
    token = issue_token(get_settings(), tenant.id, user, "member")
    return await member_id(tenant, user), {"Authorization": f"Bearer {token}"}


async def test_comment_and_list(client, tenant_a):
    task = await a_task(client, tenant_a)
    first = await comment(client, tenant_a, task["id"], "  first  ")
    second = await comment(client, tenant_a, task["id"], "second")
    schemas.Comment.model_validate(first)
    author = await member_id(tenant_a, "tenant-a-member")
    assert {k: first[k] for k in ("task_id", "author_id", "author_name", "body")} == {
        "task_id": task["id"],
        "author_id": author,
        "author_name": "Member",
        "body": "first",
    }
    listed = await client.get(f"/api/tasks/{task['id']}/comments", headers=tenant_a.headers)
    assert listed.status_code == 200
    schemas.CommentList.model_validate(listed.json())
    assert listed.json()["data"] == [first, second]


async def test_b_never_sees_or_touches_comments_of_a(client, tenant_a, tenant_b):
    task = await a_task(client, tenant_a)
    note = await comment(client, tenant_a, task["id"], "private")
    b_task = await a_task(client, tenant_b)
    before, counts = await comment_row(note["id"]), await table_counts()
    nowhere = str(uuid.uuid4())
    pairs = [
        ("GET", f"/api/tasks/{task['id']}/comments", None, f"/api/tasks/{nowhere}/comments"),
        (
            "POST",
            f"/api/tasks/{task['id']}/comments",
            {"body": "intrusion"},
            f"/api/tasks/{nowhere}/comments",
        ),
    ]
    for tid in (task["id"], b_task["id"]):  # A's comment under A's task, or under B's own
        for method, body in (("PATCH", {"body": "rewritten"}), ("DELETE", None)):
            pairs.append(
                (
                    method,
                    f"/api/tasks/{tid}/comments/{note['id']}",
                    body,
                    f"/api/tasks/{tid}/comments/{nowhere}",
                )
            )
    for headers in (tenant_b.headers, {"Authorization": f"Bearer {tenant_b.admin_token}"}):
        for method, path, body, absent in pairs:
            response = await client.request(method, path, json=body, headers=headers)
            other = await client.request(method, absent, json=body, headers=headers)
            assert_error(response, 404, "not_found")
            assert response.json() == other.json(), (method, path)
    assert await comment_row(note["id"]) == before
    assert await table_counts() == counts


async def test_only_the_author_or_an_admin_changes_a_comment(client, tenant_a):
    task = await a_task(client, tenant_a)
    note = await comment(client, tenant_a, task["id"], "mine")
    _, other = await second_member(tenant_a)
    before = await comment_row(note["id"])
    for method, body in (("PATCH", {"body": "not yours"}), ("DELETE", None)):
        response = await client.request(
            method, f"/api/tasks/{task['id']}/comments/{note['id']}", json=body, headers=other
        )
        assert_error(response, 403, "forbidden")
        assert await comment_row(note["id"]) == before

    edited = await client.patch(
        f"/api/tasks/{task['id']}/comments/{note['id']}",
        json={"body": "mine, edited"},
        headers=tenant_a.headers,
    )
    assert edited.status_code == 200, edited.text
    assert edited.json() == {
        **note,
        "body": "mine, edited",
        "updated_at": edited.json()["updated_at"],
    }
    assert datetime.fromisoformat(edited.json()["updated_at"]) > datetime.fromisoformat(
        note["updated_at"]
    )

    admin = {"Authorization": f"Bearer {tenant_a.admin_token}"}
    by_admin = await client.patch(
        f"/api/tasks/{task['id']}/comments/{note['id']}", json={"body": "moderated"}, headers=admin
    )
    assert by_admin.status_code == 200 and by_admin.json()["body"] == "moderated"
    assert by_admin.json()["author_id"] == note["author_id"]

    deleted = await client.delete(f"/api/tasks/{task['id']}/comments/{note['id']}", headers=admin)
    assert deleted.status_code == 204
    assert await comment_row(note["id"]) is None
    listed = await client.get(f"/api/tasks/{task['id']}/comments", headers=tenant_a.headers)
    assert listed.json()["data"] == []


async def test_author_deletes_own_comment(client, tenant_a):
    task = await a_task(client, tenant_a)
    author_id, other = await second_member(tenant_a)
    note = await comment(client, tenant_a, task["id"], "by other", headers=other)
    assert note["author_id"] == author_id and note["author_name"] == "Other Person"
    response = await client.delete(f"/api/tasks/{task['id']}/comments/{note['id']}", headers=other)
    assert response.status_code == 204
    again = await client.delete(f"/api/tasks/{task['id']}/comments/{note['id']}", headers=other)
    assert_error(again, 404, "not_found")


async def test_removing_a_member_keeps_their_comments_without_an_author(client, tenant_a, tenant_b):
    task = await a_task(client, tenant_a)
    leaving, leaving_headers = await second_member(tenant_a)
    kept = await comment(
        client, tenant_a, task["id"], "said before leaving", headers=leaving_headers
    )
    mine = await comment(client, tenant_a, task["id"], "still mine")
    b_task = await a_task(client, tenant_b)
    _, b_headers = await second_member(tenant_b)
    b_note = await comment(client, tenant_b, b_task["id"], "B's own", headers=b_headers)
    b_before = await comment_row(b_note["id"])

    # B's admin cannot remove A's member, so cannot take the author off A's comments
    admin_b = {"Authorization": f"Bearer {tenant_b.admin_token}"}
    refused = await client.delete(f"/api/members/{leaving}", headers=admin_b)
    assert_error(refused, 404, "not_found")
    assert (await comment_row(kept["id"]))["author_id"] == uuid.UUID(leaving)

    admin_a = {"Authorization": f"Bearer {tenant_a.admin_token}"}
    removed = await client.delete(f"/api/members/{leaving}", headers=admin_a)
    assert removed.status_code == 204, removed.text

    listed = await client.get(f"/api/tasks/{task['id']}/comments", headers=tenant_a.headers)
    assert listed.status_code == 200
    schemas.CommentList.model_validate(listed.json())
    first, second = listed.json()["data"]
    assert (first["id"], first["body"], first["author_id"], first["author_name"]) == (
        kept["id"],
        "said before leaving",
        None,
        None,
    )
    assert second == mine
    assert await comment_row(b_note["id"]) == b_before  # B's rows are not touched

    # without an author, only a tenant admin changes the comment
    for method, body in (("PATCH", {"body": "not yours"}), ("DELETE", None)):
        response = await client.request(
            method,
            f"/api/tasks/{task['id']}/comments/{kept['id']}",
            json=body,
            headers=tenant_a.headers,
        )
        assert_error(response, 403, "forbidden")
    moderated = await client.patch(
        f"/api/tasks/{task['id']}/comments/{kept['id']}",
        json={"body": "moderated"},
        headers=admin_a,
    )
    assert moderated.status_code == 200, moderated.text
    assert moderated.json()["author_id"] is None and moderated.json()["body"] == "moderated"


async def test_a_comment_is_only_reachable_under_its_own_task(client, tenant_a):
    task, other_task = await a_task(client, tenant_a), await a_task(client, tenant_a)
    note = await comment(client, tenant_a, task["id"])
    before = await comment_row(note["id"])
    for method, body in (("PATCH", {"body": "moved?"}), ("DELETE", None)):
        response = await client.request(
            method,
            f"/api/tasks/{other_task['id']}/comments/{note['id']}",
            json=body,
            headers=tenant_a.headers,
        )
        assert_error(response, 404, "not_found")
    assert await comment_row(note["id"]) == before


async def test_a_caller_who_is_not_a_member_cannot_comment(client, tenant_a):
    task = await a_task(client, tenant_a)
    stranger = issue_token(get_settings(), tenant_a.id, f"nobody-{uuid.uuid4().hex}", "member")
    before = await table_counts()
    response = await client.post(
        f"/api/tasks/{task['id']}/comments",
        json={"body": "hi"},
        headers={"Authorization": f"Bearer {stranger}"},
    )
    assert_error(response, 403, "not_a_member")  # refused at request start
    assert await table_counts() == before


async def test_invalid_comment_bodies_are_422(client, tenant_a):
    task = await a_task(client, tenant_a)
    before = await table_counts()
    for body, field in (
        ({"body": ""}, "body"),
        ({"body": "   "}, "body"),
        ({"body": "x" * 10_001}, "body"),
        ({}, "body"),
        ({"body": 5}, "body"),
        ({"body": "ok", "author_id": str(uuid.uuid4())}, "author_id"),
    ):
        response = await client.post(
            f"/api/tasks/{task['id']}/comments", json=body, headers=tenant_a.headers
        )
        assert_error(response, 422, "validation_error")
        assert error_fields(response) == {field}
    assert await table_counts() == before


async def test_deleting_a_task_deletes_its_comments(client, tenant_a):
    task = await a_task(client, tenant_a)
    notes = [await comment(client, tenant_a, task["id"], f"n{i}") for i in range(3)]
    response = await client.delete(f"/api/tasks/{task['id']}", headers=tenant_a.headers)
    assert response.status_code == 204
    assert await task_row(task["id"]) is None
    assert [await comment_row(n["id"]) for n in notes] == [None, None, None]
    listed = await client.get(f"/api/tasks/{task['id']}/comments", headers=tenant_a.headers)
    assert_error(listed, 404, "not_found")


async def test_comments_are_listed_a_page_at_a_time(client, tenant_a, tenant_b):
    """Like every list: cursor pages, each comment exactly once, oldest first; another
    tenant's pages reveal nothing, and bad paging input is a 422."""
    task = await a_task(client, tenant_a)
    made = [(await comment(client, tenant_a, task["id"], f"c{i}"))["id"] for i in range(5)]
    path = f"/api/tasks/{task['id']}/comments"
    seen, cursor, pages = [], None, 0
    while True:
        params = {"limit": 2, **({"cursor": cursor} if cursor else {})}
        response = await client.get(path, params=params, headers=tenant_a.headers)
        assert response.status_code == 200, response.text
        body = schemas.CommentList.model_validate(response.json())
        assert len(body.data) <= 2
        seen += [str(c.id) for c in body.data]
        pages += 1
        cursor = body.next_cursor
        if cursor is None:
            break
    assert seen == made and pages == 3
    default = (await client.get(path, headers=tenant_a.headers)).json()
    assert [c["id"] for c in default["data"]] == made and default["next_cursor"] is None
    # tenant B: neither the list nor a page of it, with or without A's cursor
    first = (await client.get(path, params={"limit": 2}, headers=tenant_a.headers)).json()
    for params in ({}, {"limit": 2, "cursor": first["next_cursor"]}):
        assert_error(await client.get(path, params=params, headers=tenant_b.headers), 404)
    for params in ({"limit": 0}, {"limit": 201}, {"cursor": "nope"}, {"limit": "x"}):
        assert_error(await client.get(path, params=params, headers=tenant_a.headers), 422)
