"""Request and response shapes of the tenant and members API."""

from __future__ import annotations

import uuid
from datetime import datetime

from pydantic import BaseModel, Field

from refresh.db.claims import TenantRole
from refresh.web.models import Strict, patch_model

EMAIL = r"^[^@\s]+@[^@\s]+\.[^@\s]+$"


class Tenant(BaseModel):
    id: uuid.UUID
    slug: str
    name: str
    created_at: datetime
    updated_at: datetime


class MemberFields(Strict):
    """What an admin may change about a member."""

    email: str = Field(max_length=320, pattern=EMAIL)
    display_name: str = Field(min_length=1, max_length=200)
    role: TenantRole = TenantRole.member


class MemberCreate(MemberFields):
    user_id: str = Field(min_length=1, max_length=255)


MemberPatch = patch_model(MemberFields, "MemberPatch")


class Member(BaseModel):
    id: uuid.UUID
    user_id: str
    email: str
    display_name: str
    role: TenantRole
    created_at: datetime
    updated_at: datetime


class MemberList(BaseModel):
    data: list[Member]


class MemberListQuery(Strict):
    role: TenantRole | None = None
