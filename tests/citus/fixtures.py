"""pytest fixtures for a Citus cluster: one cluster per session, one database per test.

Import them into a test module, or register this module once for the whole suite with
`pytest_plugins = ["tests.citus.fixtures"]` in tests/conftest.py.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from uuid import uuid4

import pytest

from tests.citus.build import REPO_ROOT
from tests.citus.cluster import CitusCluster

# The owner of every test database; a non-superuser, like the project's admin role.
OWNER_ROLE = "citus_test_owner"
OWNER_OPTIONS = "login createrole bypassrls"


def cluster_dir() -> Path:
    """A fixed dir per checkout (and per xdist worker): a crashed run's servers are found
    and stopped by the next run there. CITUS_TEST_DIR overrides it (keep it short: the
    socket path must fit in 107 bytes)."""
    base = Path(os.environ.get("CITUS_TEST_DIR") or REPO_ROOT / ".data" / "citus-test")
    worker = os.environ.get("PYTEST_XDIST_WORKER")
    return base / worker if worker else base


@dataclass(frozen=True)
class CitusDatabase:
    name: str
    owner: str
    url: str  # the coordinator's, as the superuser
    owner_url: str  # the coordinator's, as the owner role
    worker_urls: list[str]  # superuser


@pytest.fixture(scope="session")
def citus_cluster() -> Iterator[CitusCluster]:
    """Under TEST_CITUS the suite's own cluster (tests/database.py), else one of its own."""
    if os.environ.get("TEST_CITUS"):
        from tests.database import test_database

        yield test_database().citus
        return
    with CitusCluster(cluster_dir()) as cluster:
        yield cluster


@pytest.fixture
def citus_database(citus_cluster: CitusCluster) -> Iterator[CitusDatabase]:
    name = f"citus_test_{uuid4().hex[:12]}"
    url = citus_cluster.create_database(name, OWNER_ROLE, role_options=OWNER_OPTIONS)
    yield CitusDatabase(
        name=name,
        owner=OWNER_ROLE,
        url=url,
        owner_url=citus_cluster.url(citus_cluster.coordinator, name, OWNER_ROLE),
        worker_urls=[citus_cluster.url(node, name) for node in citus_cluster.workers],
    )
    citus_cluster.drop_database(name)
