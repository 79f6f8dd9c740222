"""refresh/compat/swagger_ui.py: the pinned swagger-ui-py still ships the Swagger UI files
/api/docs serves, in a version that renders OpenAPI 3.1 (Swagger UI 5 or later)."""

from __future__ import annotations

import re
from importlib.metadata import version

from refresh.compat.swagger_ui import ASSETS, static_dir


def test_the_package_ships_every_file_the_docs_page_loads() -> None:
    folder = static_dir()
    for name in ASSETS:
        assert (folder / name).stat().st_size > 0, name


def test_the_bundled_swagger_ui_renders_openapi_3_1() -> None:
    bundle = (static_dir() / "swagger-ui-bundle.js").read_text(encoding="utf-8")
    found = re.search(r'PACKAGE_VERSION:"(\d+)\.(\d+)\.(\d+)"', bundle)
    assert found, "swagger-ui-bundle.js no longer names its version"
    assert int(found.group(1)) >= 5, f"Swagger UI {found.group(0)} cannot render OpenAPI 3.1"


def test_the_version_is_the_pinned_one() -> None:
    # pyproject.toml pins it exactly; an upgrade must come through this test.
    assert version("swagger-ui-py") == "25.7.1"
