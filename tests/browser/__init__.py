"""Browser tests: the admin UI in the system Chromium, driven by Playwright, against the
real app under uvicorn."""

# The Debian package's binary (apt-get install -y chromium); never `playwright install`.
CHROMIUM = "/usr/bin/chromium"


def browser_problem() -> str | None:
    """Why the browser tests cannot run here, or None."""
    from pathlib import Path

    try:
        import playwright.sync_api  # noqa: F401
    except ImportError as exc:
        return f"playwright is not importable ({exc})"
    if not Path(CHROMIUM).is_file():
        return f"{CHROMIUM} is missing (apt-get install -y chromium)"
    return None


def skip_or_fail_without_browser() -> None:
    """Skips the calling module without a browser; under CI that is a failure instead."""
    import os

    import pytest

    if (problem := browser_problem()) is not None:
        if os.environ.get("CI"):
            # In CI a missing browser is a broken build, not a reason to pass quietly.
            pytest.fail(f"the browser tests cannot run: {problem}", pytrace=False)
        pytest.skip(f"browser tests skipped: {problem}", allow_module_level=True)
