"""swagger-ui-py: the Swagger UI files that /api/docs serves, from the installed package.

We use the package only as a pinned, maintained carrier of Swagger UI's built files (its
framework handlers are not used): the docs page then works wherever the API works, with
no CDN. The files are located without importing the package (its __init__ imports jinja2
and yaml for handlers we do not use). tests/refresh/compat/test_swagger_ui.py fails if
the package moves the files or stops shipping a Swagger UI that renders OpenAPI 3.1.
"""

from __future__ import annotations

import importlib.util
from pathlib import Path

#: The files /api/docs needs, and nothing else is served from the package.
ASSETS = ("swagger-ui.css", "swagger-ui-bundle.js", "favicon-32x32.png")


class SwaggerUIMissing(RuntimeError):
    """The package is not installed or no longer has the files where we expect them."""


def static_dir() -> Path:
    """The folder of swagger-ui-py's Swagger UI files (checked to hold ASSETS)."""
    spec = importlib.util.find_spec("swagger_ui")
    if spec is None or not spec.submodule_search_locations:
        raise SwaggerUIMissing("swagger-ui-py is not installed: run `make install`")
    folder = Path(next(iter(spec.submodule_search_locations))) / "static"
    missing = [name for name in ASSETS if not (folder / name).is_file()]
    if missing:
        raise SwaggerUIMissing(f"swagger-ui-py has no {', '.join(missing)} in {folder}")
    return folder
