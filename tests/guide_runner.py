"""Reading docs/database-guide.md as a test script: sections, code blocks, expected output.

The fence's info string says what the test does with a block:

    ```python                  run in the section's Python session (tests/guide_kernel.py)
    ```python prelude          run once; every section's session starts from it
    ```bash run                run with bash in the guide's project (exit=N: expected status)
    ```python file=PATH        written to PATH of the guide's project (a glob: the newest
                               match, keeping the ID that `piccolo migrations new` gave it)
    ```diff file=PATH          applied to PATH of the guide's project (context must match)
    ```python excerpt=PATH     not run: must appear verbatim in the project's own PATH
                               (a line `# ...` skips lines), so it cannot go stale
    ```output                  what the block above prints, compared after normalising
                               (a line `...`: any lines; `…` in a line: any text)
    ```bash, ```sql, ...       shown only (commands a reader adapts, SQL already shown)
"""

from __future__ import annotations

import difflib
import re
from dataclasses import dataclass, field
from pathlib import Path

FENCE = re.compile(r"^```(\S*)(.*)$")
HEADING = re.compile(r"^## (.+)$")
# Values that differ on every run, replaced on both sides before comparing. Order
# matters: a migration id contains a date, a JWT contains anything.
VOLATILE = (
    (re.compile(r"eyJ[\w-]+\.[\w-]+\.[\w-]+"), "<jwt>"),
    (re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}"), "<uuid>"),
    (re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d:\d{6}"), "<migration-id>"),
    (re.compile(r"\d{4}_\d\d_\d\dt\d\d_\d\d_\d\d_\d{6}"), "<migration-ts>"),
    (re.compile(r"\d{4}-\d\d-\d\d[ T]\d\d:\d\d:\d\d(\.\d+)?( UTC|Z|[+-]\d\d:\d\d)?"), "<time>"),
    (re.compile(r"\b\d+ min\b"), "<n> min"),
)


@dataclass
class Block:
    lang: str
    options: dict[str, str]
    code: str
    line: int  # first line of the code, 1-based
    output: str | None = None  # the ```output block that follows, if any
    output_span: tuple[int, int] | None = None  # its content lines [start, end), 0-based
    end: int = 0  # the line after the closing fence, 0-based

    @property
    def kind(self) -> str:
        o = self.options
        if "excerpt" in o:
            return "excerpt"
        if "file" in o:
            return "file"
        if self.lang == "python" and "no-run" not in o:
            return "prelude" if "prelude" in o else "python"
        if self.lang == "bash" and "run" in o:
            return "bash"
        return "shown"


@dataclass
class Section:
    title: str
    text: str
    blocks: list[Block] = field(default_factory=list)

    @property
    def slug(self) -> str:
        return re.sub(r"[^a-z0-9]+", "-", self.title.lower()).strip("-")


def parse_options(info: str) -> dict[str, str]:
    options = {}
    for word in info.split():
        key, _, value = word.partition("=")
        options[key] = value.strip("\"'")
    return options


def parse_guide(path: Path) -> list[Section]:
    lines = path.read_text().splitlines()
    sections: list[Section] = []
    i = 0
    while i < len(lines):
        heading = HEADING.match(lines[i])
        if heading:
            sections.append(Section(heading.group(1).strip(), ""))
        fence = FENCE.match(lines[i])
        if not fence or not fence.group(1):
            if sections:
                sections[-1].text += lines[i] + "\n"
            i += 1
            continue
        start = i + 1
        end = next(j for j in range(start, len(lines)) if lines[j] == "```")
        code = "\n".join(lines[start:end]) + "\n"
        if sections:
            sections[-1].text += "\n".join(lines[i : end + 1]) + "\n"
        lang, info = fence.group(1), fence.group(2)
        previous = sections[-1].blocks[-1] if sections and sections[-1].blocks else None
        if lang == "output":
            # It belongs to the code block right above it (blank lines allowed between).
            if previous is None or lines[previous.end : i] != [""] * (i - previous.end):
                raise ValueError(f"{path.name}:{i + 1}: ```output must follow a code block")
            previous.output, previous.output_span = code, (start, end)
        elif sections:
            block = Block(lang, parse_options(info), code, start + 1, end=end + 1)
            sections[-1].blocks.append(block)
        i = end + 1
    return sections


def normalise(text: str) -> str:
    for pattern, replacement in VOLATILE:
        text = pattern.sub(replacement, text)
    return "\n".join(line.rstrip() for line in text.strip("\n").splitlines())


def matches(expected: str, actual: str) -> bool:
    """Equal after normalising; in `expected` a line `...` stands for any lines, and `…`
    for any text within a line (e.g. counts that grow with the project)."""
    parts = [
        r"(?:[^\n]*\n)*?"
        if line == "..."
        else r"[^\n]*?".join(re.escape(piece) for piece in line.split("…")) + r"\n"
        for line in normalise(expected).splitlines()
    ]
    return re.fullmatch("".join(parts), normalise(actual) + "\n") is not None


def difference(expected: str, actual: str) -> str:
    return "\n".join(
        difflib.unified_diff(
            normalise(expected).splitlines(),
            normalise(actual).splitlines(),
            "the guide shows",
            "the code printed",
            lineterm="",
        )
    )


def excerpt_problem(excerpt: str, source: str) -> str | None:
    """None when every chunk of `excerpt` (split at `# ...` lines) is in `source`, in order."""
    chunks: list[list[str]] = []
    current: list[str] = []
    for line in excerpt.splitlines():
        if line.strip() in ("# ...", "..."):
            chunks.append(current)
            current = []
        else:
            current.append(line)
    chunks.append(current)
    position = 0
    for chunk in filter(None, chunks):
        text = "\n".join(chunk) + "\n"
        found = source.find(text, position)
        if found < 0:
            return f"not in the file:\n{text}"
        position = found + len(text)
    return None


def apply_diff(diff: str, original: str) -> str:
    """Apply a unified diff's hunks by their context (no line numbers needed)."""
    result = original
    hunks = re.split(r"^@@.*$\n", diff, flags=re.M)[1:] or [diff]
    for hunk in hunks:
        before, after = [], []
        for line in hunk.splitlines():
            if line.startswith(("---", "+++")):
                continue
            tag, text = line[:1], line[1:]
            if tag in (" ", "-"):
                before.append(text)
            if tag in (" ", "+"):
                after.append(text)
        old, new = "\n".join(before) + "\n", "\n".join(after) + "\n"
        if result.count(old) != 1:
            raise ValueError(f"the diff's context is not found exactly once:\n{old}")
        result = result.replace(old, new)
    return result


def update_outputs(path: Path, changes: list[tuple[Block, str]]) -> None:
    """GUIDE_UPDATE=1: write what the code printed into the guide (review the diff)."""
    lines = path.read_text().splitlines()
    for block, printed in sorted(changes, key=lambda c: -c[0].end):
        new = [line.rstrip() for line in printed.rstrip("\n").splitlines()]
        if block.output_span is not None:
            start, end = block.output_span
            lines[start:end] = new
        else:
            lines[block.end : block.end] = ["", "```output", *new, "```"]
    path.write_text("\n".join(lines) + "\n")
