"""The CLI as a developer runs it: real `piccolo` subprocesses against the test database."""

from __future__ import annotations

import uuid

import jwt

from apps.projects.tables import Project
from apps.tenants.tables import Member, Tenant
from refresh.db.clients import write_client
from settings import get_settings
from tests.database import piccolo


def test_tenants_create_prints_the_new_id():
    slug = f"cli-{uuid.uuid4().hex[:8]}"
    result = piccolo("tenants", "create", slug, "--name", "CLI Corp")
    tenant_id = uuid.UUID(result.stdout.strip())  # the id and nothing else

    again = piccolo("tenants", "create", slug, check=False)
    assert again.returncode == 1
    assert "exists already" in again.stderr + again.stdout

    bad = piccolo("tenants", "create", "Not A Slug", check=False)
    assert bad.returncode == 1
    assert tenant_id


async def test_rls_token_prints_only_a_working_token(client, tenant_a):
    result = piccolo(
        "rls",
        "token",
        "--tenant",
        tenant_a.slug,
        "--user",
        f"{tenant_a.slug}-admin",
        "--role",
        "admin",
    )
    token = result.stdout.strip()
    assert result.stdout.count("\n") == 1
    payload = jwt.decode(token, get_settings().jwt_secret, algorithms=["HS256"])
    assert payload["tenant_id"] == str(tenant_a.id)
    assert payload["sub"] == f"{tenant_a.slug}-admin"  # a member: the token must work
    assert payload["tenant_role"] == "admin"
    assert payload["exp"] - payload["iat"] == 3600

    by_id = piccolo("rls", "token", "--tenant", str(tenant_a.id), "--user", "u", "--ttl", "60")
    assert jwt.decode(by_id.stdout.strip(), options={"verify_signature": False})["exp"] > 0

    response = await client.get("/api/projects", headers={"Authorization": f"Bearer {token}"})
    assert response.status_code == 200


def test_rls_token_refuses_bad_arguments():
    for args in (
        ["--tenant", "no-such-tenant", "--user", "u"],
        ["--tenant", "tenant-a"],
        ["--tenant", "tenant-a", "--user", "u", "--role", "owner"],
        ["--tenant", "tenant-a", "--user", "u", "--ttl", "0"],
    ):
        result = piccolo("rls", "token", *args, check=False)
        assert result.returncode == 1, args
        assert result.stdout == ""


async def test_demo_seed_is_idempotent_and_prints_working_curls(client):
    first = piccolo("tenants", "demo", "--port", "8000")
    counts = [await write_client.run(table.count()) for table in (Tenant, Member, Project)]
    second = piccolo("tenants", "demo", "--port", "8000")
    assert [await write_client.run(t.count()) for t in (Tenant, Member, Project)] == counts

    curls = [line for line in second.stdout.splitlines() if line.startswith("curl ")]
    assert len(curls) == 2 and first.stdout.count("curl ") == 2
    seen: dict[str, set[str]] = {}
    for line in curls:
        token = line.split("Bearer ")[1].split("'")[0]
        assert line.endswith("http://127.0.0.1:8000/api/projects")
        response = await client.get("/api/projects", headers={"Authorization": f"Bearer {token}"})
        tenant = jwt.decode(token, options={"verify_signature": False})["tenant_id"]
        seen[tenant] = {p["name"] for p in response.json()["data"]}
    acme, globex = seen.values()
    assert acme == {"Website relaunch", "Mobile app"}
    assert globex == {"Data warehouse", "Compliance audit"}


def test_forwards_again_is_a_no_op():
    result = piccolo("migrations", "forwards", "all")
    assert "No migrations need to be run" in result.stdout
