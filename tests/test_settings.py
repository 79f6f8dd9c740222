"""Misconfiguration is a clear startup error that names the setting."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from settings import PLACEHOLDER_JWT_SECRET, Settings

ROOT = Path(__file__).resolve().parents[1]


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"environment": "production"}, "JWT_SECRET is the development placeholder"),
        ({"jwt_secret": "short"}, "at least 32 characters"),
        ({"write_database_url": "postgresql://x/y"}, "set both"),
        ({"jwt_algorithms": ["RS256"]}, "JWKS_URL or JWKS_FILE"),
        ({"read_pool_min_size": 20, "read_pool_max_size": 5}, "READ_POOL_MIN_SIZE"),
    ],
)
def test_invalid_settings_are_refused(overrides, message):
    base = {"write_database_url": None, "read_database_url": None}
    if "write_database_url" in overrides:
        base = {"read_database_url": None}
    with pytest.raises(ValueError, match=message):
        Settings(**{**base, **overrides})


def test_placeholder_secret_is_fine_in_development():
    settings = Settings(environment="development", write_database_url=None, read_database_url=None)
    assert settings.jwt_secret == PLACEHOLDER_JWT_SECRET


def test_the_app_refuses_to_start_with_a_placeholder_secret_in_production():
    env = {**os.environ, "ENVIRONMENT": "production"}
    env.pop("JWT_SECRET", None)
    result = subprocess.run(
        [sys.executable, "-c", "import app"], cwd=ROOT, env=env, capture_output=True, text=True
    )
    assert result.returncode != 0
    last_line = result.stderr.strip().splitlines()[-1]
    assert last_line.startswith("settings.SettingsError: invalid configuration")
    assert "JWT_SECRET" in last_line


def test_placeholder_secret_is_refused_on_a_real_server_unless_development_is_explicit(
    monkeypatch,
):
    monkeypatch.delenv("ENVIRONMENT", raising=False)
    urls = {"write_database_url": "postgresql://a@h/d", "read_database_url": "postgresql://b@h/d"}
    with pytest.raises(ValueError, match="JWT_SECRET is the development placeholder"):
        Settings(**urls)
    assert Settings(environment="development", **urls).jwt_secret == PLACEHOLDER_JWT_SECRET
    # the embedded server is development by nature
    assert Settings(write_database_url=None, read_database_url=None).embedded


def test_tokens_are_not_issued_when_the_api_would_refuse_them(tmp_path):
    import uuid

    from refresh.web.tokens import issue_token

    jwks = tmp_path / "jwks.json"
    jwks.write_text('{"keys": []}')
    settings = Settings(
        write_database_url=None, read_database_url=None, jwt_algorithms=["RS256"], jwks_file=jwks
    )
    with pytest.raises(ValueError, match="HS256"):
        issue_token(settings, uuid.uuid4(), "u")


def production_settings(**overrides: object) -> Settings:
    urls = {"write_database_url": "postgresql://a/b", "read_database_url": "postgresql://a/c"}
    return Settings(environment="production", jwt_secret="s" * 32, **{**urls, **overrides})


def test_the_tenant_limit_is_two_or_half_the_read_pool_in_production_unless_set():
    assert production_settings().tenant_limit == 2  # READ_POOL_MAX_SIZE 10
    assert production_settings(read_pool_max_size=3).tenant_limit == 1
    assert production_settings(read_pool_min_size=1, read_pool_max_size=1).tenant_limit == 1
    assert production_settings(tenant_max_concurrency=0).tenant_limit == 0  # off, explicitly
    assert production_settings(tenant_max_concurrency=3).tenant_limit == 3
    development = Settings(
        environment="development", write_database_url=None, read_database_url=None
    )
    assert development.tenant_limit == 0
