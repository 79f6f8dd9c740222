"""The interactive API docs (/api/docs): Swagger UI served by the app itself, from the
pinned swagger-ui-py package (refresh/compat/swagger_ui.py), so the page renders without
internet access and never loads a script from a third party.

Routes: the page, its start script (a file rather than inline, so a strict
Content-Security-Policy needs no 'unsafe-inline'), and the allow-listed Swagger UI files.
The files are located on the first request, not at import.
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

from starlette.requests import Request
from starlette.responses import FileResponse, HTMLResponse, Response
from starlette.routing import Route

from refresh.compat.swagger_ui import ASSETS, static_dir
from refresh.web.responses import error_response

PREFIX = "/api/docs"
# The package is pinned, so a file's content changes only with an upgrade; a day of
# caching keeps a reload from fetching 1.5 MB of JavaScript again, and ETag revalidates.
CACHE_CONTROL = "public, max-age=86400"

DOCS_HTML = f"""<!doctype html>
<html lang="en">
<head>
  <meta charset="utf-8">
  <title>Refresh API</title>
  <link rel="icon" type="image/png" href="{PREFIX}/favicon-32x32.png">
  <link rel="stylesheet" href="{PREFIX}/swagger-ui.css">
</head>
<body>
  <div id="swagger-ui"></div>
  <script src="{PREFIX}/swagger-ui-bundle.js"></script>
  <script src="{PREFIX}/init.js"></script>
</body>
</html>
"""
INIT_JS = (
    'window.ui = SwaggerUIBundle({url: "/api/openapi.json", dom_id: "#swagger-ui", '
    "deepLinking: true});\n"
)


@lru_cache(maxsize=1)
def assets() -> Path:
    return static_dir()


async def docs_page(request: Request) -> Response:
    return HTMLResponse(DOCS_HTML)


async def init_script(request: Request) -> Response:
    return Response(
        INIT_JS,
        media_type="text/javascript",
        headers={"cache-control": CACHE_CONTROL},
    )


async def asset(request: Request) -> Response:
    name = request.path_params["name"]
    if name not in ASSETS:  # the package holds more (the editor, source maps): not served
        return error_response(404, "not_found", "no such file")
    return FileResponse(assets() / name, headers={"cache-control": CACHE_CONTROL})


def docs_routes() -> list[Route]:
    """The docs routes; public, so they go before the authenticated /api mount."""
    return [
        Route(PREFIX, docs_page, methods=["GET"]),
        Route(f"{PREFIX}/init.js", init_script, methods=["GET"]),
        Route(f"{PREFIX}/{{name}}", asset, methods=["GET"]),
    ]
