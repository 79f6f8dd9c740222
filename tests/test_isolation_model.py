"""Property-based isolation: random sequences of API operations by random tenants, on
every tenant table, keep each tenant's view equal to a simple in-memory model of its
rows; operations on another tenant's ids change nothing and answer 404."""

from __future__ import annotations

import asyncio
import uuid
from typing import Any

import httpx
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, precondition, rule

from tests.conftest import TenantFixture, make_tenant
from tests.scratch import uvicorn

TENANTS = 3
names = st.text(alphabet="abcdefghijklmnopqrstuvwxyz ÄÖü-", min_size=1, max_size=20).filter(
    lambda s: s.strip() == s and s.strip()
)


class Model:
    def __init__(self, tenant: TenantFixture, admin_member: str) -> None:
        self.tenant = tenant
        self.projects: dict[str, str] = {}  # id -> name
        self.tasks: dict[str, tuple[str, str, str]] = {}  # id -> (project, title, status)
        self.comments: dict[str, tuple[str, str]] = {}  # id -> (task, body)
        self.members: dict[str, str] = {}  # id -> user_id (besides the fixture's two)
        self.admin_member = admin_member


class TenantIsolation(RuleBasedStateMachine):
    client: httpx.Client
    models: list[Model]

    def h(self, model: Model, admin: bool = False) -> dict[str, str]:
        token = model.tenant.admin_token if admin else model.tenant.token
        return {"Authorization": f"Bearer {token}"}

    @rule(t=st.integers(0, TENANTS - 1), name=names)
    def create_project(self, t: int, name: str) -> None:
        m = self.models[t]
        r = self.client.post("/api/projects", json={"name": name}, headers=self.h(m))
        assert r.status_code == 201, r.text
        m.projects[r.json()["id"]] = name

    @precondition(lambda self: any(m.projects for m in self.models))
    @rule(data=st.data(), name=names)
    def rename_project(self, data: st.DataObject, name: str) -> None:
        owner = data.draw(st.sampled_from([m for m in self.models if m.projects]))
        project = data.draw(st.sampled_from(sorted(owner.projects)))
        actor = data.draw(st.sampled_from(self.models))
        r = self.client.patch(
            f"/api/projects/{project}", json={"name": name}, headers=self.h(actor)
        )
        if actor is owner:
            assert r.status_code == 200
            owner.projects[project] = name
        else:
            assert r.status_code == 404

    @precondition(lambda self: any(m.projects for m in self.models))
    @rule(data=st.data(), title=names)
    def create_task(self, data: st.DataObject, title: str) -> None:
        owner = data.draw(st.sampled_from([m for m in self.models if m.projects]))
        project = data.draw(st.sampled_from(sorted(owner.projects)))
        actor = data.draw(st.sampled_from(self.models))
        r = self.client.post(
            "/api/tasks", json={"project_id": project, "title": title}, headers=self.h(actor)
        )
        if actor is owner:
            assert r.status_code == 201, r.text
            owner.tasks[r.json()["id"]] = (project, title, "todo")
        else:
            assert r.status_code == 422  # the project is "not found" for another tenant

    @precondition(lambda self: any(m.tasks for m in self.models))
    @rule(data=st.data(), status=st.sampled_from(["todo", "in_progress", "done", "archived"]))
    def update_task(self, data: st.DataObject, status: str) -> None:
        owner = data.draw(st.sampled_from([m for m in self.models if m.tasks]))
        task = data.draw(st.sampled_from(sorted(owner.tasks)))
        actor = data.draw(st.sampled_from(self.models))
        r = self.client.patch(f"/api/tasks/{task}", json={"status": status}, headers=self.h(actor))
        if actor is owner:
            assert r.status_code == 200
            project, title, _ = owner.tasks[task]
            owner.tasks[task] = (project, title, status)
        else:
            assert r.status_code == 404

    @precondition(lambda self: any(m.tasks for m in self.models))
    @rule(data=st.data(), body=names)
    def comment(self, data: st.DataObject, body: str) -> None:
        owner = data.draw(st.sampled_from([m for m in self.models if m.tasks]))
        task = data.draw(st.sampled_from(sorted(owner.tasks)))
        actor = data.draw(st.sampled_from(self.models))
        r = self.client.post(
            f"/api/tasks/{task}/comments", json={"body": body}, headers=self.h(actor)
        )
        if actor is owner:
            assert r.status_code == 201, r.text
            owner.comments[r.json()["id"]] = (task, body)
        else:
            assert r.status_code == 404

    @rule(t=st.integers(0, TENANTS - 1))
    def add_member(self, t: int) -> None:
        m = self.models[t]
        user = f"u-{uuid.uuid4().hex[:8]}"
        body = {"user_id": user, "email": f"{user}@x.test", "display_name": user}
        assert self.client.post("/api/members", json=body, headers=self.h(m)).status_code == 403
        r = self.client.post("/api/members", json=body, headers=self.h(m, admin=True))
        assert r.status_code == 201, r.text
        m.members[r.json()["id"]] = user

    @precondition(lambda self: any(m.projects for m in self.models))
    @rule(data=st.data())
    def delete_project(self, data: st.DataObject) -> None:
        owner = data.draw(st.sampled_from([m for m in self.models if m.projects]))
        project = data.draw(st.sampled_from(sorted(owner.projects)))
        actor = data.draw(st.sampled_from(self.models))
        r = self.client.delete(f"/api/projects/{project}", headers=self.h(actor))
        if actor is not owner:
            assert r.status_code == 404
            return
        assert r.status_code == 204
        del owner.projects[project]
        gone = {t for t, (p, _, _) in owner.tasks.items() if p == project}
        owner.tasks = {t: v for t, v in owner.tasks.items() if t not in gone}
        owner.comments = {c: v for c, v in owner.comments.items() if v[0] not in gone}

    @invariant()
    def every_view_matches_its_model(self) -> None:
        for m in self.models:
            h = self.h(m)
            projects = self.client.get("/api/projects?limit=200", headers=h).json()["data"]
            assert {p["id"]: p["name"] for p in projects} == m.projects
            tasks = self.client.get("/api/tasks?limit=200", headers=h).json()["data"]
            assert {t["id"]: (t["project_id"], t["title"], t["status"]) for t in tasks} == m.tasks
            seen_comments: dict[str, Any] = {}
            for task in m.tasks:
                rows = self.client.get(f"/api/tasks/{task}/comments", headers=h).json()["data"]
                seen_comments.update({c["id"]: (c["task_id"], c["body"]) for c in rows})
            assert seen_comments == m.comments
            members = self.client.get("/api/members", headers=h).json()["data"]
            extra = {x["id"]: x["user_id"] for x in members if x["user_id"].startswith("u-")}
            assert extra == m.members
            assert self.client.get("/api/tenant", headers=h).json()["id"] == str(m.tenant.id)


def test_random_operations_keep_every_tenant_equal_to_its_model():
    with (
        uvicorn({}, target="tests.routes:create_test_app", factory=True) as base,
        httpx.Client(base_url=base, timeout=30) as client,
    ):

        def fresh_models() -> list[Model]:
            run = uuid.uuid4().hex[:6]
            tenants = asyncio.run(_tenants(run))
            return [Model(t, f"{t.slug}-admin") for t in tenants]

        class Machine(TenantIsolation):
            def __init__(self) -> None:
                super().__init__()
                self.client = client
                self.models = fresh_models()

        run = Machine.TestCase
        run.settings = settings(
            max_examples=12,
            stateful_step_count=15,
            deadline=None,
            suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
        )
        run().runTest()


async def _tenants(run: str) -> list[TenantFixture]:
    from refresh.db.engines import WRITE_DB

    # This runs in a loop of its own (asyncio.run): the write-client pool that the
    # session's app started belongs to the session's loop, so use plain connections.
    pool, WRITE_DB.pool = WRITE_DB.pool, None
    try:
        return [await make_tenant(f"model-{run}-{i}") for i in range(TENANTS)]
    finally:
        WRITE_DB.pool = pool
