"""The admin's generic delete of a tenant row (one row, or the bulk delete by filter) is
refused with the erase as its advice: a delete would cascade to the tenant's rows but
leave its audit entries and operator actions behind, and its export could not be
imported again. The advice, followed literally (the form, or the command), erases it."""

from __future__ import annotations

import re
import shlex
import uuid
from typing import Any

from tests.apps.admin.support import new_operator, new_staff, open_session
from tests.refresh.lifecycle.support import generated_tenant, others_digest, rows_of, run_cli


def advice(response: Any) -> str:
    assert response.status_code == 405, response.text
    assert response.headers["content-type"].startswith("application/json")
    error = response.json()["error"]
    message: str = error["message"]
    assert message.startswith("a tenant is not deleted here:"), message
    assert "Nothing was deleted" in message
    for leak in ("Traceback", "select ", "delete from", "audit_log_pkey"):
        assert leak not in message
    return message


async def test_deleting_a_tenant_row_is_refused_and_its_advice_erases_it(app: Any) -> None:
    slug, other = (f"del{side}-{uuid.uuid4().hex[:6]}" for side in "ab")
    tenant_id, other_id = await generated_tenant(slug, 2), await generated_tenant(other, 2)
    operator = await open_session(app, await new_operator())
    before, others = await rows_of(tenant_id), await others_digest(tenant_id)
    other_before = await rows_of(other_id)

    single = advice(await operator.delete(f"/tables/tenant/{tenant_id}/"))
    # piccolo-admin's bulk delete is one DELETE per selected row: each is refused
    for selected, its_slug in ((tenant_id, slug), (other_id, other)):
        message = advice(await operator.delete(f"/tables/tenant/{selected}/"))
        assert f"`piccolo tenants erase {its_slug}`" in message
    # a delete by filter (piccolo-api's, which piccolo-admin does not route) deletes nothing
    for params in ({"slug": slug}, {}):
        response = await operator.client.delete("/admin/api/tables/tenant/", params=params)
        assert response.status_code == 405 and "error" in response.json()
    assert await rows_of(tenant_id) == before  # nothing deleted, nothing audited
    assert await rows_of(other_id) == other_before

    # the form, as the message says: its path in the admin, its two fields
    form = re.search(
        r"\(/admin/#/forms/([a-z-]+)/\) with Slug `([^`]+)` and Confirm `([^`]+)`", single
    )
    assert form is not None, single
    name, form_slug, confirm = form.groups()
    assert form_slug == slug
    erased = await operator.post(f"/forms/{name}/", {"slug": form_slug, "confirm": confirm})
    assert erased.status_code == 200, erased.text
    assert erased.json()["custom_form_success"].startswith(f"erased {slug}:")
    left = await rows_of(tenant_id)
    assert {table: len(rows) for table, rows in left.items() if rows} == {"audit_log": 1}
    assert await rows_of(other_id) == other_before
    assert await others_digest(tenant_id) == others


async def test_the_advice_of_the_command_erases_the_tenant(app: Any) -> None:
    slug = f"delc-{uuid.uuid4().hex[:6]}"
    tenant_id = await generated_tenant(slug, 2)
    operator = await open_session(app, await new_operator())
    message = advice(await operator.delete(f"/tables/tenant/{tenant_id}/"))
    command = re.search(r"`(piccolo tenants erase [^`]+)`", message)
    assert command is not None, message
    run = run_cli(*shlex.split(command.group(1))[1:])
    assert run.returncode == 0, run.stderr
    left = await rows_of(tenant_id)
    assert {table: len(rows) for table, rows in left.items() if rows} == {"audit_log": 1}


async def test_an_unknown_or_bad_id_deletes_nothing(app: Any) -> None:
    """piccolo-api answers an id of no row, or no id, before any validator runs."""
    operator = await open_session(app, await new_operator())
    for path, status, code in (
        (f"/tables/tenant/{uuid.uuid4()}/", 404, "not_found"),
        ("/tables/tenant/not-an-id/", 400, "bad_request"),
    ):
        response = await operator.delete(path)
        assert response.status_code == status, response.text
        assert response.json()["error"]["code"] == code


async def test_staff_cannot_delete_their_tenant_row_either(app: Any) -> None:
    slug = f"dels-{uuid.uuid4().hex[:6]}"
    tenant_id = await generated_tenant(slug, 1)
    staff = await open_session(app, await new_staff(tenant_id))
    before = await rows_of(tenant_id)
    response = await staff.delete(f"/tables/tenant/{tenant_id}/")
    assert response.status_code == 403, response.text  # their grants: no erase advice
    assert response.json()["error"]["code"] == "forbidden"
    after = await rows_of(tenant_id)
    after["audit_log"] = before["audit_log"]
    assert after == before
