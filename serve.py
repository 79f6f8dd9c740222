"""The production server: `python -m serve` (or `make serve`).

uvicorn with several worker processes, uvloop and httptools, JSON logs (one line per
request, refresh/web/logconfig.py), graceful shutdown (SIGTERM: stop accepting, finish
what is in flight, at most GRACEFUL_TIMEOUT seconds), client addresses taken from
X-Forwarded-For only from TRUSTED_PROXIES (settings.py: the same list the admin's login
throttle trusts; none by default), and Prometheus metrics added up across
the workers. Before a worker starts, it checks, and refuses with one clear line (exit 2,
no traceback): invalid settings (settings.py: a development JWT secret, no database
URLs, ...), ENVIRONMENT other than production, and demo logins that still open the admin.

Options come from the environment, as every setting does: HOST (0.0.0.0), PORT (8000),
WEB_CONCURRENCY (workers; default: CPUs), GRACEFUL_TIMEOUT (30), LOG_LEVEL (info).
"""

from __future__ import annotations

import asyncio
import os
import shutil
import sys
import tempfile
from dataclasses import dataclass
from typing import NoReturn


class Refused(Exception):
    """The server must not start; the message says why and what to do."""


@dataclass(frozen=True)
class ServeOptions:
    host: str
    port: int
    workers: int
    graceful_timeout: int
    log_level: str


def options(environ: dict[str, str]) -> ServeOptions:
    def number(name: str, default: int) -> int:
        raw = environ.get(name, "")
        if not raw:
            return default
        if not raw.isdigit() or int(raw) < 1:
            raise Refused(f"{name} must be a whole number of at least 1, not {raw!r}")
        return int(raw)

    level = environ.get("LOG_LEVEL", "info").lower()
    if level not in ("critical", "error", "warning", "info", "debug"):
        raise Refused(f"LOG_LEVEL must be critical, error, warning, info or debug, not {level!r}")
    return ServeOptions(
        host=environ.get("HOST", "0.0.0.0"),  # noqa: S104 (a server in a container)
        port=number("PORT", 8000),
        workers=number("WEB_CONCURRENCY", os.cpu_count() or 1),
        graceful_timeout=number("GRACEFUL_TIMEOUT", 30),
        log_level=level,
    )


def check_settings() -> None:
    from settings import SettingsError, get_settings

    try:
        settings = get_settings()
    except SettingsError as exc:
        raise Refused(str(exc)) from None
    if settings.environment != "production":
        raise Refused(
            "this is the production server: set ENVIRONMENT=production "
            "(for development, `make run`)"
        )


def check_database() -> None:
    import asyncpg

    from apps.admin.demo import demo_logins_present

    try:
        present = asyncio.run(demo_logins_present())  # one connection, no pool
    except asyncpg.UndefinedTableError:
        raise Refused(
            "the database has no tables yet: run `piccolo migrations forwards all`"
        ) from None
    except (OSError, asyncpg.PostgresError) as exc:
        raise Refused(f"the database is not reachable through WRITE_DATABASE_URL: {exc}") from None
    if present:
        names = ", ".join(present)
        raise Refused(
            f"demo admin logins still open the admin with their published passwords: {names}. "
            "Give each a new password: `piccolo user change_password` (it asks for the "
            "username, then the new password twice)"
        )


def metrics_dir() -> str:
    """A fresh folder for prometheus-client's multiprocess files (old ones would be
    added to the new counts), unless PROMETHEUS_MULTIPROC_DIR names one."""
    given = os.environ.get("PROMETHEUS_MULTIPROC_DIR")
    if given:
        shutil.rmtree(given, ignore_errors=True)
        os.makedirs(given, exist_ok=True)
        return given
    return tempfile.mkdtemp(prefix="refresh-metrics-")


def serve(opts: ServeOptions) -> None:
    import uvicorn

    from refresh.web.logconfig import logging_config
    from settings import get_settings

    # One list of trusted proxies for the whole app (the login throttle reads it too);
    # uvicorn's own default (127.0.0.1) would trust whatever runs on this host.
    trusted = get_settings().trusted_proxies

    # Before the app (and prometheus-client) is imported, here or in a worker.
    os.environ["PROMETHEUS_MULTIPROC_DIR"] = metrics_dir()
    uvicorn.run(
        "app:app",
        host=opts.host,
        port=opts.port,
        workers=opts.workers,
        loop="uvloop",
        http="httptools",
        log_config=logging_config(opts.log_level.upper()),
        access_log=False,  # the request log replaces it (refresh/web/requestlog.py)
        proxy_headers=bool(trusted),
        forwarded_allow_ips=",".join(trusted) or None,
        timeout_graceful_shutdown=opts.graceful_timeout,
        server_header=False,
    )


def refuse(message: str) -> NoReturn:
    print(f"refresh: not serving: {message}", file=sys.stderr)
    sys.exit(2)


def main() -> None:
    try:
        opts = options(dict(os.environ))
        check_settings()
        check_database()
    except Refused as refused:
        refuse(str(refused))
    serve(opts)


if __name__ == "__main__":
    main()
