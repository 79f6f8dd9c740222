"""`piccolo tenants export --out` that is a directory or cannot be written is refused in
one line (not a traceback and the help text), before the snapshot, leaving no file."""

from __future__ import annotations

from tests.refresh.lifecycle.support import run_cli


async def test_export_to_a_directory_or_an_unwritable_place_is_one_line(tenant_b, tmp_path):
    for out, expected in (
        (f"{tmp_path}/", f"--out: '{tmp_path}/' is a directory, not a file"),
        (str(tmp_path), f"--out: '{tmp_path}' is a directory, not a file"),
        ("/proc/x.jsonl", "--out: cannot write in '/proc': "),
    ):
        result = run_cli("tenants", "export", tenant_b.slug, "--out", out)
        assert result.returncode == 1, result
        assert result.stderr.startswith(expected) and result.stderr.count("\n") == 1, result
        assert result.stdout == ""
    assert list(tmp_path.iterdir()) == []  # not even a temporary file left
