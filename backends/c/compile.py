"""Build emitted C into a shared library, cached by content hash in a per-user directory.

The cache key covers the source, the flags, the compiler's identity and the CPU (because of
`-march=native`). A build writes to a temporary file and renames it into place under a per-key
file lock, so concurrent processes compiling the same kernel run gcc once and never load a
half-written library.
"""

import fcntl
import functools
import hashlib
import os
import re
import shlex
import shutil
import subprocess
import tempfile
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

from treadle.errors import CompileError

DEFAULT_FLAGS: tuple[str, ...] = (
    "-O3",
    "-march=native",
    "-fopenmp",
    "-std=c99",
    "-fno-math-errno",  # libm calls may vectorize; IEEE results are unchanged
    "-shared",
    "-fPIC",
    "-Werror=implicit-function-declaration",
    "-Werror=incompatible-pointer-types",
    "-Werror=int-conversion",
)
LINK_FLAGS: tuple[str, ...] = ("-lm",)


@dataclass(frozen=True)
class Build:
    """Where a library is and how it got there."""

    path: Path
    cached: bool
    compile_seconds: float
    """time spent in the compiler (0 when cached)"""


def cache_dir() -> Path:
    """`$TREADLE_CACHE_DIR`, else `$XDG_CACHE_HOME/treadle`, else `~/.cache/treadle`; `c/` below it."""
    if root := os.environ.get("TREADLE_CACHE_DIR"):
        base = Path(root)
    else:
        base = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "treadle"
    return base / "c"


def compiler() -> tuple[str, ...]:
    """The compiler command from `$CC` (default gcc), checked to exist."""
    return _compiler(os.environ.get("CC", "gcc") or "gcc", "CC" in os.environ, os.environ.get("PATH", ""))


@functools.lru_cache(maxsize=16)
def _compiler(command: str, from_env: bool, path: str) -> tuple[str, ...]:
    """Per ($CC, $PATH): looking the compiler up on PATH took ~60 µs of a kernel's reuse."""
    cc = tuple(shlex.split(command))
    if not cc or shutil.which(cc[0], path=path or None) is None:
        raise CompileError(
            f"C backend: C compiler {cc[0] if cc else '(empty)'!r} not found "
            f"({'from $CC' if from_env else 'default gcc'}); install gcc or set CC"
        )
    return cc


@functools.cache
def compiler_identity(cc: tuple[str, ...]) -> str:
    """The compiler's `--version` banner, part of the cache key."""
    try:
        out = subprocess.run([*cc, "--version"], capture_output=True, text=True, timeout=60)
    except OSError as err:
        raise CompileError(f"C backend: cannot run C compiler {cc[0]!r}: {err}") from None
    if out.returncode != 0:
        raise CompileError(f"C backend: {cc[0]!r} --version failed: {out.stderr.strip()}")
    return out.stdout.strip().splitlines()[0] if out.stdout.strip() else cc[0]


@functools.cache
def cpu_identity() -> str:
    """The CPU model and feature flags, since `-march=native` code is CPU specific."""
    try:
        text = Path("/proc/cpuinfo").read_text()
    except OSError:
        import platform

        return platform.machine() + platform.processor()
    keep = [line for line in text.splitlines() if line.startswith(("model name", "flags", "Features"))]
    return "\n".join(dict.fromkeys(keep))


def cache_key(source: str, flags: Sequence[str], cc: tuple[str, ...]) -> str:
    h = hashlib.sha256()
    for part in (source, "\0".join(flags), "\0".join(cc), compiler_identity(cc), cpu_identity()):
        h.update(part.encode())
        h.update(b"\0\1")
    return h.hexdigest()[:32]


def build(
    source: str,
    flags: Sequence[str] = DEFAULT_FLAGS,
    origin: Callable[[int], str | None] | None = None,
) -> Build:
    """The path of a shared library built from `source`, compiling only on a cache miss.

    `origin(line)` may name the IR op a C line came from, for error messages.
    """
    cc = compiler()
    key = cache_key(source, flags, cc)
    directory = cache_dir()
    lib = directory / f"{key}.so"
    if lib.exists():
        return Build(lib, True, 0.0)
    try:
        directory.mkdir(parents=True, exist_ok=True)
    except OSError as err:
        raise CompileError(f"C backend: cannot create cache directory {directory}: {err}") from None
    with open(directory / f"{key}.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if lib.exists():
            return Build(lib, True, 0.0)
        _write_atomic(directory / f"{key}.c", source)
        start = time.perf_counter()
        tmp = directory / f".{key}.{os.getpid()}.tmp.so"
        try:
            proc = subprocess.run(
                [*cc, *flags, "-o", str(tmp), str(directory / f"{key}.c"), *LINK_FLAGS],
                capture_output=True,
                text=True,
            )
        except OSError as err:
            raise CompileError(f"C backend: cannot run C compiler {cc[0]!r}: {err}") from None
        if proc.returncode != 0:
            tmp.unlink(missing_ok=True)
            raise CompileError(_diagnostic(proc.stderr, source, directory / f"{key}.c", origin))
        os.replace(tmp, lib)
        return Build(lib, False, time.perf_counter() - start)


def _write_atomic(path: Path, text: str) -> None:
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    with os.fdopen(fd, "w") as f:
        f.write(text)
    os.replace(tmp, path)


def _diagnostic(stderr: str, source: str, path: Path, origin: Callable[[int], str | None] | None) -> str:
    """The compiler's errors, each followed by the C line and the IR op it came from."""
    lines = source.splitlines()
    out = [f"C backend: the C compiler rejected {path}:"]
    for message in stderr.strip().splitlines():
        out.append("  " + message)
        if (m := re.match(r".*?:(\d+):(\d+): (?:fatal )?error:", message)) is None:
            continue
        n = int(m.group(1))
        if 1 <= n <= len(lines):
            out.append(f"    C line {n}: {lines[n - 1].strip()}")
        if origin is not None and (op := origin(n)) is not None:
            out.append(f"    from IR: {op}")
    return "\n".join(out)
