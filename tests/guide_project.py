"""The guide's project for tests/test_database_guide.py: a copy of the project's code, its
database, and the Python session its examples run in (tests/guide_kernel.py)."""

from __future__ import annotations

import json
import os
import re
import select
import subprocess
import sys
from pathlib import Path
from typing import IO, Any

from settings import get_settings
from tests.guide_runner import Block, Section, apply_diff, difference, excerpt_problem, matches

ROOT = Path(__file__).resolve().parents[1]
GUIDE = ROOT / "docs" / "database-guide.md"
KERNEL = Path(__file__).resolve().parent / "guide_kernel.py"
UPDATE = bool(os.environ.get("GUIDE_UPDATE"))
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
