"""A request refused by a missing grant or policy (issue #12, mistake 6): the client gets
the same 403 as before, and the log says which table, role and command to look at."""

from __future__ import annotations

import logging
from typing import Any

import pytest

from tests.apps.tasks.support import new_project
from tests.database import superuser_sql, test_database


async def test_a_missing_grant_is_a_403_and_a_warning_naming_table_role_and_command(
    client: Any, tenant_a: Any, caplog: pytest.LogCaptureFixture
) -> None:
    project = (await new_project(client, tenant_a, "refused"))["id"]
    superuser_sql(test_database(), "revoke update on project from authenticated")
    try:
        caplog.set_level(logging.WARNING, logger="refresh")
        response = await client.patch(
            f"/api/projects/{project}", json={"name": "x"}, headers=tenant_a.headers
        )
    finally:
        superuser_sql(test_database(), "grant update on project to authenticated")
    assert response.status_code == 403
    assert response.json()["error"]["code"] == "forbidden"
    [warning] = [r for r in caplog.records if r.name == "refresh.db"]
    assert warning.levelno == logging.WARNING
    assert warning.getMessage().startswith(
        "refused by the database: update on project as authenticated "
        "(permission denied for table project)"
    )
    assert (warning.refused_table, warning.refused_command) == ("project", "update")  # type: ignore[attr-defined]
