from __future__ import annotations

import uuid
from datetime import datetime
from typing import Literal

from pydantic import BaseModel, Field

from apps.projects.schemas import Strict

MemberRole = Literal["member", "admin"]
EMAIL = r"^[^@\s]+@[^@\s]+\.[^@\s]+$"


class Tenant(BaseModel):
    id: uuid.UUID
    slug: str
    name: str
    created_at: datetime
    updated_at: datetime


class MemberCreate(Strict):
    user_id: str = Field(min_length=1, max_length=255)
    email: str = Field(max_length=320, pattern=EMAIL)
    display_name: str = Field(min_length=1, max_length=200)
    role: MemberRole = "member"


class MemberPatch(Strict):
    email: str = Field(default=None, max_length=320, pattern=EMAIL)  # type: ignore[assignment]
    display_name: str = Field(default=None, min_length=1, max_length=200)  # type: ignore[assignment]
    role: MemberRole = None  # type: ignore[assignment]


class Member(BaseModel):
    id: uuid.UUID
    user_id: str
    email: str
    display_name: str
    role: MemberRole
    created_at: datetime
    updated_at: datetime


class MemberList(BaseModel):
    data: list[Member]


class MemberListQuery(Strict):
    role: MemberRole | None = None
