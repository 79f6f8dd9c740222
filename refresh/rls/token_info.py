"""What a token says, read without verifying it: only to explain why verification failed."""

from __future__ import annotations

import time
from datetime import UTC, datetime
from typing import Any

import jwt

from refresh.web.tokens import AuthError, claims_from_payload


def unverified_payload(token: str) -> dict[str, Any]:
    """The payload without checking anything."""
    try:
        payload = jwt.decode(token, options={"verify_signature": False})
    except jwt.PyJWTError:
        return {}
    return payload if isinstance(payload, dict) else {}


def claim_error(payload: dict[str, Any]) -> str | None:
    try:
        claims_from_payload(payload)
    except AuthError as exc:
        return exc.message
    return None


def expiry_text(exp: Any) -> str:
    if not isinstance(exp, int | float):
        return "at an unknown time"
    moment = datetime.fromtimestamp(exp, UTC).strftime("%Y-%m-%d %H:%M:%S UTC")
    seconds = exp - time.time()
    # Decide past or future on the seconds, not on the rounded minutes: a token that
    # expired 20 s ago is "under a minute ago", never "in 0 min".
    if abs(seconds) < 60:
        return f"at {moment}, " + ("in under a minute" if seconds >= 0 else "under a minute ago")
    minutes = round(abs(seconds) / 60)
    return f"at {moment}, " + (f"in {minutes} min" if seconds >= 0 else f"{minutes} min ago")
