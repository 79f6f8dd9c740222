"""refresh/compat/piccolo_api_queries.py: piccolo-api's private steps of a list request
still exist and still mean what bench/admin_explain.py takes them to mean."""

from __future__ import annotations

from piccolo.columns.readable import Readable
from piccolo_api.crud.endpoints import PiccoloCRUD

from apps.projects.tables import Project
from apps.tasks.tables import Task
from refresh.compat.piccolo_api_queries import (
    related_readable,
    request_params,
    with_request_filters,
)


def test_a_list_requests_parameters_are_split_as_the_admin_sends_them() -> None:
    crud = PiccoloCRUD(Task, read_only=True)
    params = request_params(
        crud,
        {
            "title": "report",
            "status": "open",
            "status__match": "exact",
            "__order": "-due_at",
            "__page": "3",
            "__page_size": "10",
            "__readable": "true",
        },
    )
    assert (params.page, params.page_size, params.include_readable) == (3, 10, True)
    [order] = params.order_by
    assert (order.column._meta.name, order.ascending) == ("due_at", False)
    assert params.fields == {"title": "report", "status": "open"}


def test_the_filters_are_applied_with_their_match_types() -> None:
    crud = PiccoloCRUD(Task, read_only=True)
    params = request_params(crud, {"title": "report", "status": "open", "status__match": "exact"})
    sql = str(with_request_filters(crud, Task.count(), params))
    assert '"task"."title" ILIKE \'%report%\'' in sql
    assert '"task"."status" = \'open\'' in sql


def test_a_foreign_keys_readable_is_joined_from_the_row_it_points_at() -> None:
    readable = related_readable(Task, Task.project_id)
    assert isinstance(readable, Readable)
    assert readable.output_name == "project_id_readable"
    assert [c._meta.name for c in readable.columns] == [
        c._meta.name for c in Project.get_readable().columns
    ]
    assert 'LEFT JOIN "project"' in str(Task.select(readable))
