"""docs/database-guide.md, executed: every example in it runs here, one test per section.

The guide is a script (tests/guide_runner.py says how each code block is marked). It runs
top to bottom against a project of its own: a copy of the project's code in a temporary
directory (so "Creating a table" can add an app and "Migrations" can write migration
files) on a database of its own (so its output is exact, and the suite's shared database
is left alone). Python blocks run in one Python session (tests/guide_kernel.py), with a
fresh namespace per section; bash blocks run the real `piccolo` CLI in the project copy.
What a block prints is compared with the ```output block under it, after normalising the
values that change on every run (ids, tokens, times); a block that prints something the
guide does not show fails too.

Not run, by design: ```python excerpt=PATH blocks (quotes of the project's files: they are
checked to appear verbatim in the file instead) and plain ```bash/```sql blocks (commands a
reader adapts, SQL the guide only shows).

When an example's output changes on purpose: `GUIDE_UPDATE=1 pytest tests/test_database_guide.py`
writes the new output into the guide; review the diff.

A section assumes the ones before it ran (the app "Creating a table" adds is migrated in
"Migrations"): selecting one section with -k runs the earlier ones first.
"""

from __future__ import annotations

import json
import os
import re
import select
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import IO, Any

import pytest

from settings import Settings, get_settings
from tests.guide_runner import (
    Block,
    Section,
    apply_diff,
    difference,
    excerpt_problem,
    matches,
    parse_guide,
    update_outputs,
)
from tests.scratch import scratch_database

ROOT = Path(__file__).resolve().parents[1]
GUIDE = ROOT / "docs" / "database-guide.md"
SECTIONS = parse_guide(GUIDE)
PROJECT_FILES = (
    ".gitignore",
    "apps",
    "refresh",
    "migrations",
    "app.py",
    "piccolo_conf.py",
    "settings.py",
)
KERNEL = Path(__file__).resolve().parent / "guide_kernel.py"
UPDATE = bool(os.environ.get("GUIDE_UPDATE"))
# Runs on the Citus cluster of `make test-citus` only (TEST_CITUS); no section needs it.
CITUS_SECTION = "scaling-out-with-citus"
ON_CITUS = bool(os.environ.get("TEST_CITUS"))
TIMEOUT = 120  # seconds for one block


class GuideFailure(AssertionError):
    pass


class GuideProject:
    """The project copy, its database, and the Python session the examples run in."""

    def __init__(self, root: Path, env: dict[str, str]) -> None:
        self.root, self.env = root, env
        self.kernel: subprocess.Popen[str] | None = None
        self.kernel_log = root.parent / "kernel.log"
        self.kernel_log_file: IO[str] | None = None
        self.ran: dict[str, str | None] = {}  # section slug -> its failure, if any
        self.updates: list[tuple[Block, str]] = []

    def start_kernel(self) -> subprocess.Popen[str]:
        if self.kernel is None:
            self.kernel_log_file = self.kernel_log.open("w")
            self.kernel = subprocess.Popen(
                [sys.executable, str(KERNEL)],
                cwd=self.root,
                env=self.env,
                stdin=subprocess.PIPE,
                stdout=subprocess.PIPE,
                stderr=self.kernel_log_file,
                text=True,
            )
        return self.kernel

    def ask(self, request: dict[str, Any]) -> dict[str, Any]:
        kernel = self.start_kernel()
        assert kernel.stdin is not None and kernel.stdout is not None
        kernel.stdin.write(json.dumps(request) + "\n")
        kernel.stdin.flush()
        ready, _, _ = select.select([kernel.stdout], [], [], TIMEOUT)
        if not ready:
            kernel.kill()
            raise GuideFailure(f"the example did not finish in {TIMEOUT} s")
        answer = kernel.stdout.readline()
        if not answer:
            raise GuideFailure(f"the Python session died:\n{self.kernel_log.read_text()}")
        result: dict[str, Any] = json.loads(answer)
        return result

    def close(self) -> None:
        if self.kernel is not None:
            assert self.kernel.stdin is not None
            self.kernel.stdin.close()
            try:
                self.kernel.wait(10)
            except subprocess.TimeoutExpired:
                self.kernel.kill()
        if self.kernel_log_file is not None:
            self.kernel_log_file.close()

    def run_section(self, section: Section) -> None:
        self.ask({"op": "section"})
        for block in section.blocks:
            self.run_block(block)

    def run_block(self, block: Block) -> None:
        where = f"{GUIDE.name}:{block.line}"
        if block.kind in ("python", "prelude"):
            answer = self.ask(
                {
                    "op": block.kind if block.kind == "prelude" else "run",
                    "code": block.code,
                    "line": block.line,
                }
            )
            if answer["error"]:
                raise GuideFailure(f"{where}: the example raised\n{answer['error']}")
            self.check_output(block, answer["stdout"], where)
        elif block.kind == "bash":
            self.check_output(block, self.run_bash(block, where), where)
        elif block.kind == "file":
            self.write_file(block)
        elif block.kind == "excerpt":
            source = (ROOT / block.options["excerpt"]).read_text()
            problem = excerpt_problem(block.code, source)
            if problem:
                raise GuideFailure(f"{where}: excerpt of {block.options['excerpt']} {problem}")

    def run_bash(self, block: Block, where: str) -> str:
        result = subprocess.run(
            ["bash", "-c", "set -euo pipefail\n" + block.code],
            cwd=self.root,
            env=self.env,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            timeout=TIMEOUT,
        )
        expected = int(block.options.get("exit") or 0)
        if result.returncode != expected:
            raise GuideFailure(
                f"{where}: exit status {result.returncode}, the guide says {expected}\n"
                f"{result.stdout}"
            )
        return result.stdout

    def write_file(self, block: Block) -> None:
        target = block.options["file"]
        if "*" in target:  # e.g. the migration `piccolo migrations new` just created
            path = sorted(self.root.glob(target))[-1]
            generated_id = next(
                line for line in path.read_text().splitlines() if line.startswith("ID = ")
            )
            text = (
                "\n".join(
                    generated_id if line.startswith("ID = ") else line
                    for line in block.code.splitlines()
                )
                + "\n"
            )
        else:
            path, text = self.root / target, block.code
        path.parent.mkdir(parents=True, exist_ok=True)
        if block.lang == "diff":
            text = apply_diff(block.code, path.read_text())
        path.write_text(text)

    def displayed(self, printed: str) -> str:
        """Output as a developer sees it in ~/refresh: no colour codes, no temporary paths."""
        printed = re.sub(r"\x1b\[[0-9;]*m", "", printed)
        printed = printed.replace(str(Path(sys.executable).parent), ".venv/bin")
        return printed.replace(str(self.root), "~/refresh")

    def check_output(self, block: Block, printed: str, where: str) -> None:
        printed = self.displayed(printed)
        if block.output is None and not printed.strip():
            return
        if block.output is not None and matches(block.output, printed):
            return
        self.updates.append((block, printed))
        if UPDATE:  # carry on: the rest of the section's output is wanted too
            return
        if block.output is None:
            raise GuideFailure(f"{where}: prints output the guide does not show:\n{printed}")
        raise GuideFailure(
            f"{where}: output differs\n{difference(block.output, printed)}\n\n"
            f"full output:\n{printed}"
        )


def project_env(root: Path, database_env: dict[str, str]) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PICCOLO", "PYTEST"))}
    return {
        **env,
        **database_env,
        **(citus_env() if ON_CITUS else {}),
        "ENVIRONMENT": "test",
        "PYTHONPATH": str(root),
        "PATH": f"{Path(sys.executable).parent}{os.pathsep}{env.get('PATH', '')}",
        # git as in a fresh clone, whatever the machine's git configuration says
        "GIT_CONFIG_GLOBAL": os.devnull,
        "GIT_CONFIG_NOSYSTEM": "1",
        **{
            f"GIT_{who}_{what}": value
            for who in ("AUTHOR", "COMMITTER")
            for what, value in (("NAME", "Guide"), ("EMAIL", "guide@refresh.test"))
        },
    }


def citus_env() -> dict[str, str]:
    """The nodes of the suite's Citus cluster, as "Scaling out with Citus" names them."""
    from tests.database import test_database

    cluster = test_database().citus
    coordinator = cluster.coordinator_url
    settings = get_settings()
    shop = {
        role: cluster.url(cluster.coordinator, "shop", user)
        for role, user in (
            ("WRITE", settings.admin_role),
            ("READ", settings.authenticator_role),
        )
    }
    return {
        "COORDINATOR": coordinator,
        "WORKERS": ",".join(cluster.worker_urls),
        "SHOP_WRITE_URL": shop["WRITE"],
        "SHOP_READ_URL": shop["READ"],
    }


@pytest.fixture(scope="module")
def guide(tmp_path_factory: pytest.TempPathFactory) -> Iterator[GuideProject]:
    root = tmp_path_factory.mktemp("guide") / "refresh"
    root.mkdir()
    ignore = shutil.ignore_patterns("__pycache__")
    for name in PROJECT_FILES:
        source = ROOT / name
        if source.is_dir():
            shutil.copytree(source, root / name, ignore=ignore)
        else:
            shutil.copy2(source, root / name)
    with scratch_database("guide") as database:
        project = GuideProject(root, project_env(root, database.env))
        # The project is a git repository ("Migration conflicts" merges two branches).
        for command in ("init -q -b main", "add -A", "commit -q -m project"):
            subprocess.run(["git", *command.split()], cwd=root, env=project.env, check=True)
        try:
            yield project
        finally:
            project.close()
            if UPDATE and project.updates:
                update_outputs(GUIDE, project.updates)
    assert not (ROOT / "migrations" / "inventory").exists(), "the guide wrote into the project"


@pytest.mark.parametrize("section", SECTIONS, ids=[s.slug for s in SECTIONS])
def test_section(guide: GuideProject, section: Section) -> None:
    if section.slug == CITUS_SECTION and not ON_CITUS:
        pytest.skip("runs on a Citus cluster: make test-citus")
    for current in SECTIONS[: SECTIONS.index(section) + 1]:
        if current.slug == CITUS_SECTION and not ON_CITUS:
            continue
        if current.slug not in guide.ran:
            try:
                guide.run_section(current)
                guide.ran[current.slug] = None
            except GuideFailure as exc:
                guide.ran[current.slug] = str(exc)
            except Exception as exc:  # e.g. a diff whose context is gone, a timeout
                guide.ran[current.slug] = f"{type(exc).__name__}: {exc}"
    failure = guide.ran[section.slug]
    if failure:
        before = [slug for slug, f in guide.ran.items() if f and slug != section.slug]
        note = f"\n(earlier sections failed too: {', '.join(before)})" if before else ""
        pytest.fail(f"section {section.title!r}: {failure}{note}", pytrace=False)


def test_every_setting_is_documented() -> None:
    configuration = next(s for s in SECTIONS if s.slug == "configuration")
    missing = [n.upper() for n in Settings.model_fields if n.upper() not in configuration.text]
    assert not missing, f"settings the Configuration section does not mention: {missing}"


def test_the_guide_has_the_sections_of_the_original() -> None:
    assert [s.title for s in SECTIONS] == [
        "Overview",
        "Configuration",
        "Schema organisation",
        "Creating a table",
        "Database clients",
        "Querying",
        "Mutations",
        "Row-Level Security",
        "Migrations",
        "Best practices",
        "Troubleshooting",
        "Scaling out with Citus",
        "The tenant's lifecycle",
    ]
