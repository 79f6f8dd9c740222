"""The tasks app's pages in the admin (see apps/tenants/admin.py)."""

from __future__ import annotations

from piccolo_admin.endpoints import TableConfig

from apps.tasks.tables import Comment, Task

TASK_COLUMNS = [
    Task.title,
    Task.status,
    Task.priority,
    Task.project_id,
    Task.assignee_id,
    Task.due_at,
    Task.tenant_id,
]

ADMIN_PAGES = [
    TableConfig(
        Task,
        visible_columns=TASK_COLUMNS,
        visible_filters=TASK_COLUMNS,
        link_column=Task.title,
        menu_group="Tasks",
    ),
    TableConfig(
        Comment,
        visible_columns=[Comment.body, Comment.task_id, Comment.author_id, Comment.created_at],
        visible_filters=[Comment.task_id, Comment.author_id, Comment.tenant_id],
        link_column=Comment.body,
        menu_group="Tasks",
    ),
]

# What an admin edit cannot change (apps/admin/hooks.py): a comment stays its author's.
ADMIN_FIXED = [Comment.author_id]
