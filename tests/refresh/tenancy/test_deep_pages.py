"""Deep pages seek (refresh/tenancy/deep_pages.py): a page past DEEP_OFFSET holds exactly
the rows PostgreSQL's OFFSET gives (ties included, the primary key breaking them), of the
request's tenant only, with or without filters, its boundary read from the start or (with
a count) from the nearer end; past the end it is empty; a query the seek cannot express
(nullable or mixed-direction order, raw SQL, a filter through a join) keeps its OFFSET
and the same answer. Two tenants whose rows interleave in every ordering, each seeing
only its own page; and the same through the admin's list endpoint, as its front end asks
for a page by number."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from typing import Any

import pytest

from refresh.tenancy import deep_pages
from refresh.tenancy.deep_pages import DEEP_OFFSET
from tests.apps.admin.support import new_operator, new_staff, open_session
from tests.conftest import TenantFixture, make_tenant
from tests.refresh.tenancy.test_routing import request_of

TASKS = 2 * DEEP_OFFSET + 300  # deep pages in both halves: sought from either end
PAGE = 25

# created_at in tens of equal values, priorities and titles in few: ties everywhere;
# due_at missing on every seventh; tags of two elements
ROWS = (
    "with p as (insert into project (tenant_id, name) values ($1, 'deep') returning id)"
    " insert into task (tenant_id, project_id, title, priority, status, created_at, due_at, tags)"
    " select $1, p.id, 'deep ' || (n % 97), n % 5 + 1,"
    " (array['todo', 'done'])[n % 2 + 1], timestamptz '2026-01-01' + (n / 10) * interval '1 s',"
    " case when n % 7 > 0 then timestamptz '2026-02-01' + (n % 50) * interval '1 h' end,"
    " array['t' || (n % 3), 'u' || (n % 11)]"
    f" from p, generate_series(1, {TASKS}) n"
)


@pytest.fixture(params=["from the start", "from the nearer end"])
def reading(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> str:
    """Both ways of reading the boundary: at the test's few thousand rows every deep
    offset is below FROM_THE_END, so the other way is switched on by lowering it."""
    if request.param == "from the nearer end":
        monkeypatch.setattr(deep_pages, "FROM_THE_END", DEEP_OFFSET)
    return str(request.param)


@pytest.fixture
def ran(monkeypatch: pytest.MonkeyPatch) -> Callable[[Any], str]:
    """The SQL a query ran as: its sought copy's when it was sought (the query itself is
    not changed), its own otherwise."""
    from refresh.tenancy import routing

    sought: list[tuple[Any, str]] = []  # the queries kept alive: their ids stay theirs
    seek = routing.seek_deep_page

    async def recording(query: Any, key: Any, node: Any) -> Any:
        copy = await seek(query, key, node)
        sought.append((query, str(copy)))
        return copy

    def as_ran(query: Any) -> str:
        return next((sql for q, sql in reversed(sought) if q is query), str(query))

    monkeypatch.setattr(routing, "seek_deep_page", recording)
    return as_ran


@pytest.fixture(scope="module")
async def two_tenants(app: Any) -> AsyncIterator[tuple[TenantFixture, TenantFixture]]:
    from refresh.db.clients import write_client

    tenants = (await make_tenant("deep-pages-a"), await make_tenant("deep-pages-b"))
    async with write_client.transaction():
        await write_client.execute("set local refresh.audit = 'off'")
        for tenant in tenants:
            await write_client.fetch(ROWS, tenant.id)
    await write_client.execute("analyze task")
    yield tenants
    async with write_client.transaction():
        await write_client.execute("set local refresh.audit = 'off'")
        for tenant in tenants:
            await write_client.fetch("delete from task where tenant_id = $1", tenant.id)
            await write_client.fetch("delete from project where tenant_id = $1", tenant.id)


async def reference(tenant: TenantFixture, where: str, order: str, offset: int) -> list[Any]:
    """The page by OFFSET, as the database gives it (write client, the tenant by hand)."""
    from refresh.db.clients import write_client

    rows = await write_client.fetch(
        f"select id from task where tenant_id = $1 {where} order by {order}"
        f" offset {offset} limit {PAGE}",
        tenant.id,
    )
    return [row["id"] for row in rows]


# (piccolo ordering, the same in SQL with the primary key last, seekable)
ORDERINGS = [
    ([("id", True)], "id", True),
    ([("created_at", False), ("id", False)], "created_at desc, id desc", True),
    ([("created_at", True)], "created_at, id", True),
    ([("priority", False)], "priority desc, id desc", True),
    ([("title", True)], "title, id", True),
    ([("created_at", False), ("id", True)], "created_at desc, id", False),  # mixed directions
    (
        [("due_at", True), ("id", True)],
        "due_at, id",
        False,
    ),  # nullable: a row comparison skips NULLs
]


def ordered(query: Any, ordering: list[tuple[str, bool]]) -> Any:
    for name, ascending in ordering:
        query = query.order_by(getattr(query.table, name), ascending=ascending)
    return query


@pytest.mark.parametrize(("ordering", "sql_order", "seeks"), ORDERINGS)
@pytest.mark.parametrize(
    "offset", [DEEP_OFFSET, TASKS // 2, TASKS // 2 + 1, TASKS - PAGE - 3, TASKS - 10]
)
async def test_a_deep_page_is_the_offsets_page_of_the_own_tenant(
    two_tenants: tuple[TenantFixture, TenantFixture],
    reading: str,
    ran: Callable[[Any], str],
    ordering: list[tuple[str, bool]],
    sql_order: str,
    seeks: bool,
    offset: int,
) -> None:
    from apps.tasks.tables import Task

    for tenant in two_tenants:
        async with request_of(tenant):
            query = ordered(Task.select(Task.id), ordering).offset(offset).limit(PAGE)
            rows = await query
        expected = await reference(tenant, "", sql_order, offset)
        assert [row["id"] for row in rows] == expected
        assert len(expected) == min(PAGE, TASKS - offset)
        sql = ran(query)  # sought, or still with its OFFSET
        assert ("OFFSET" not in sql) == seeks, sql


@pytest.mark.parametrize("offset", [DEEP_OFFSET + 10, 1_700])  # of 1,840 matching rows
async def test_filters_and_joined_columns_keep_the_answer(
    two_tenants: tuple[TenantFixture, TenantFixture],
    reading: str,
    ran: Callable[[Any], str],
    offset: int,
) -> None:
    from apps.tasks.tables import Task

    for tenant in two_tenants:
        async with request_of(tenant):
            query = (
                Task.select(Task.id, Task.project_id.name)
                .where(Task.priority >= 2)
                .order_by(Task.created_at, ascending=False)
                .order_by(Task.id, ascending=False)
                .offset(offset)
                .limit(PAGE)
            )
            rows = await query
            assert "OFFSET" not in ran(query)
            # a filter through a join: not sought, the same answer
            joined = (
                Task.select(Task.id)
                .where(Task.project_id.name == "deep")
                .order_by(Task.id)
                .offset(DEEP_OFFSET)
                .limit(PAGE)
            )
            joined_rows = await joined
            assert "OFFSET" in ran(joined)
        expected = await reference(tenant, "and priority >= 2", "created_at desc, id desc", offset)
        assert [row["id"] for row in rows] == expected
        assert {row["project_id.name"] for row in rows} == {"deep"}
        assert [row["id"] for row in joined_rows] == await reference(tenant, "", "id", DEEP_OFFSET)


async def test_past_the_last_row_a_page_is_empty(
    two_tenants: tuple[TenantFixture, TenantFixture], reading: str, ran: Callable[[Any], str]
) -> None:
    from apps.tasks.tables import Task

    async with request_of(two_tenants[0]):
        query = Task.select(Task.id).order_by(Task.id).offset(TASKS).limit(PAGE)
        assert await query == []
        assert "OFFSET" not in ran(query)


async def test_an_aliased_sort_column_is_sought(
    two_tenants: tuple[TenantFixture, TenantFixture], reading: str, ran: Callable[[Any], str]
) -> None:
    from apps.tasks.tables import Task

    tenant = two_tenants[0]
    async with request_of(tenant):
        title = Task.title.as_alias("name")
        query = Task.select(Task.id, title).order_by(title).offset(TASKS - 40).limit(PAGE)
        rows = await query
    assert "OFFSET" not in ran(query)
    assert [row["id"] for row in rows] == await reference(tenant, "", "title, id", TASKS - 40)


async def test_raw_sql_and_shallow_offsets_keep_their_offset(
    two_tenants: tuple[TenantFixture, TenantFixture], reading: str, ran: Callable[[Any], str]
) -> None:
    """A window function sees every row the filters match, not those from the boundary
    on; a raw condition may name a join the boundary's own query would not have."""
    from piccolo.columns.combination import WhereRaw
    from piccolo.querystring import QueryString

    from apps.tasks.tables import Task

    tenant = two_tenants[0]
    async with request_of(tenant):
        window = (
            Task.select(Task.id, QueryString("count(*) over ()", alias="total"))
            .order_by(Task.id)
            .offset(DEEP_OFFSET)
            .limit(PAGE)
        )
        totals = {row["total"] for row in await window}
        raw = (
            Task.select(Task.id, Task.project_id.name)
            .where(WhereRaw('"task$project_id"."name" = {}', "deep"))
            .order_by(Task.id)
            .offset(DEEP_OFFSET)
            .limit(PAGE)
        )
        raw_rows = await raw
        shallow = Task.select(Task.id).order_by(Task.id).offset(DEEP_OFFSET - 1).limit(PAGE)
        shallow_rows = await shallow
        # an array's element (Piccolo orders by the whole array: rendered without its index)
        element = (
            Task.select(Task.id).order_by(Task.tags[0], Task.id).offset(DEEP_OFFSET).limit(PAGE)
        )
        element_rows = await element
    assert totals == {TASKS}
    assert [row["id"] for row in raw_rows] == await reference(tenant, "", "id", DEEP_OFFSET)
    assert [row["id"] for row in shallow_rows] == await reference(tenant, "", "id", DEEP_OFFSET - 1)
    assert [row["id"] for row in element_rows] == await reference(
        tenant, "", "tags, id", DEEP_OFFSET
    )
    for query in (window, raw, shallow, element):
        assert "OFFSET" in ran(query), query


async def test_a_query_awaited_again_with_another_offset_reads_that_page(
    two_tenants: tuple[TenantFixture, TenantFixture], reading: str
) -> None:
    """The seek runs on a copy: the query keeps its own filters, order and OFFSET."""
    from apps.tasks.tables import Task

    tenant = two_tenants[0]
    pages = {}
    async with request_of(tenant):
        query = Task.select(Task.id).order_by(Task.id).limit(PAGE)
        for offset in (DEEP_OFFSET, DEEP_OFFSET + PAGE, 0, TASKS - PAGE, DEEP_OFFSET):
            pages[offset] = [row["id"] for row in await query.offset(offset)]
            assert str(query).endswith(f"LIMIT {PAGE} OFFSET {offset}")
    for offset, page in pages.items():
        assert page == await reference(tenant, "", "id", offset), offset


async def test_a_filter_against_a_column_or_sql_keeps_its_offset(
    two_tenants: tuple[TenantFixture, TenantFixture], reading: str, ran: Callable[[Any], str]
) -> None:
    """The value may name a join that the boundary's statement would not have."""
    from piccolo.querystring import QueryString

    from apps.tasks.tables import Task
    from refresh.tenancy.deep_pages import seekable

    tenant = two_tenants[0]
    async with request_of(tenant):
        query = (
            Task.select(Task.id, Task.project_id.name)
            .where(Task.title != Task.project_id.name)  # every row: titles are 'deep <n>'
            .order_by(Task.id)
            .offset(DEEP_OFFSET)
            .limit(PAGE)
        )
        rows = await query
    assert "OFFSET" in ran(query)
    assert [row["id"] for row in rows] == await reference(tenant, "", "id", DEEP_OFFSET)
    subquery = Task.select(Task.id).where(Task.title.is_in(QueryString("select 'deep 5'")))
    assert seekable(subquery.order_by(Task.id).offset(DEEP_OFFSET)) is None


async def test_a_join_on_any_column_keeps_its_offset(
    two_tenants: tuple[TenantFixture, TenantFixture], reading: str, ran: Callable[[Any], str]
) -> None:
    """`join_on` joins on a column that is no key: two projects named like a title give
    that title's tasks two rows each, which OFFSET counts and a seek on tasks would not."""
    from apps.projects.tables import Project
    from apps.tasks.tables import Task
    from refresh.db.clients import write_client

    tenant = two_tenants[0]
    twins = "insert into project (tenant_id, name) values ($1, 'deep 5'), ($1, 'deep 5')"
    async with write_client.transaction():
        await write_client.execute("set local refresh.audit = 'off'")
        await write_client.fetch(twins, tenant.id)
    try:
        async with request_of(tenant):
            query = (
                Task.select(Task.id, Task.title.join_on(Project.name).id.as_alias("twin"))
                .order_by(Task.id)
                .offset(DEEP_OFFSET)
                .limit(PAGE)
            )
            rows = await query
        expected = await write_client.fetch(
            "select t.id from task t left join project p on p.tenant_id = t.tenant_id"
            " and p.name = t.title where t.tenant_id = $1 order by t.id"
            f" offset {DEEP_OFFSET} limit {PAGE}",
            tenant.id,
        )
    finally:
        async with write_client.transaction():
            await write_client.execute("set local refresh.audit = 'off'")
            await write_client.fetch(
                "delete from project where tenant_id = $1 and name = 'deep 5'", tenant.id
            )
    assert "OFFSET" in ran(query)
    assert [row["id"] for row in rows] == [row["id"] for row in expected]


async def test_a_sort_value_python_cannot_hold_is_sought_as_stored(
    app: Any, reading: str, ran: Callable[[Any], str]
) -> None:
    """The boundary travels as text: a timestamp past year 9999 (which PostgreSQL stores
    and Python cannot read) in the sort column, not selected, is sought like any other."""
    from apps.tasks.tables import Task
    from refresh.db.clients import write_client

    tenant = await make_tenant(f"deep-pages-far-{reading.split()[-1]}")
    rows = ROWS.replace(
        "timestamptz '2026-01-01' + (n / 10) * interval '1 s'",
        "case when n > 1000 then timestamptz '10000-01-01' + n * interval '1 s' else now() end",
    )
    assert rows != ROWS
    async with write_client.transaction():
        await write_client.execute("set local refresh.audit = 'off'")
        await write_client.fetch(rows, tenant.id)
    try:
        async with request_of(tenant):
            query = Task.select(Task.id).order_by(Task.created_at).offset(TASKS - 40).limit(PAGE)
            page = [row["id"] for row in await query]
        assert "OFFSET" not in ran(query)
        assert page == await reference(tenant, "", "created_at, id", TASKS - 40)
    finally:
        async with write_client.transaction():
            await write_client.execute("set local refresh.audit = 'off'")
            await write_client.fetch("delete from task where tenant_id = $1", tenant.id)
            await write_client.fetch("delete from project where tenant_id = $1", tenant.id)


async def test_the_admins_last_page_in_its_default_order(
    app: Any, two_tenants: tuple[TenantFixture, TenantFixture]
) -> None:
    """Staff of each tenant ask for the last page of the task list as the admin's front
    end does (by number, newest first, readable names): their own tenant's oldest rows."""
    last = (TASKS + PAGE - 1) // PAGE
    pages = {}
    for tenant in two_tenants:
        session = await open_session(app, await new_staff(tenant.id))
        try:
            response = await session.get(
                "/tables/task/",
                __readable="true",
                __order="-created_at,-id",
                __page_size=PAGE,
                __page=last,
            )
        finally:
            await session.client.aclose()
        assert response.status_code == 200, response.text
        rows = response.json()["rows"]
        expected = await reference(tenant, "", "created_at desc, id desc", (last - 1) * PAGE)
        assert [row["id"] for row in rows] == [str(i) for i in expected]
        assert len(rows) == TASKS - (last - 1) * PAGE
        assert {row["project_id_readable"] for row in rows} == {"deep"}
        pages[tenant.slug] = {row["id"] for row in rows}
    assert not pages["deep-pages-a"] & pages["deep-pages-b"]


async def test_an_operators_deep_pages_of_one_tenant_and_of_all(
    app: Any, two_tenants: tuple[TenantFixture, TenantFixture], reading: str
) -> None:
    """The operator's site reads through the write client (no RLS, no request tenant):
    a deep page of one tenant's tasks (a filter on tenant_id) and of every tenant's."""
    from refresh.db.clients import write_client

    tenant_a = two_tenants[0]
    session = await open_session(app, await new_operator())
    page = {"__readable": "true", "__order": "-created_at,-id", "__page_size": PAGE}
    try:
        one = await session.get(
            "/tables/task/", tenant_id=str(tenant_a.id), tenant_id__operator="e", __page=60, **page
        )
        every = await session.get("/tables/task/", __page=41, **page)
    finally:
        await session.client.aclose()
    assert one.status_code == every.status_code == 200, (one.text, every.text)
    expected_one = await reference(tenant_a, "", "created_at desc, id desc", 59 * PAGE)
    assert [row["id"] for row in one.json()["rows"]] == [str(i) for i in expected_one]
    all_rows = await write_client.fetch(
        f"select id from task order by created_at desc, id desc offset {40 * PAGE} limit {PAGE}"
    )
    assert [row["id"] for row in every.json()["rows"]] == [str(r["id"]) for r in all_rows]
