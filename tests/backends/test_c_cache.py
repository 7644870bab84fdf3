"""The build cache: hits on reuse, keys on flags, safe when several processes build one kernel."""

import os
import subprocess
import sys
import uuid

import numpy as np
import pytest

from treadle.backends.c import compile_module
from treadle.backends.c.compile import DEFAULT_FLAGS
from treadle.tests.backends.util import parse

AXPY = """
func.func @axpy(%a: f64, %x: memref<?xf64>, %y: memref<?xf64>) {{
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %tag = arith.constant {tag} : i64
  %n = memref.dim %x, %c0 : memref<?xf64>
  scf.for %i = %c0 to %n step %c1 {{
    %xv = memref.load %x[%i] : memref<?xf64>
    %yv = memref.load %y[%i] : memref<?xf64>
    %p = arith.mulf %a, %xv : f64
    %s = arith.addf %p, %yv : f64
    memref.store %s, %y[%i] : memref<?xf64>
  }}
  func.return
}}
"""


def fresh_kernel_text() -> str:
    """A kernel no earlier run has built (a unique constant changes the source)."""
    return AXPY.format(tag=uuid.uuid4().int % 2**62)


@pytest.fixture
def cache(tmp_path, monkeypatch):
    monkeypatch.setenv("TREADLE_CACHE_DIR", str(tmp_path))
    return tmp_path / "c"


def test_second_compile_hits_the_cache(cache):
    text = fresh_kernel_text()
    first = compile_module(parse(text))
    second = compile_module(parse(text))
    assert not first.timings.cached and first.timings.compile > 0
    assert second.timings.cached and second.timings.compile == 0
    assert first.path == second.path
    assert len(list(cache.glob("*.so"))) == 1
    y = np.ones(4)
    second.axpy(2.0, np.arange(4.0), y)
    np.testing.assert_array_equal(y, 1 + 2 * np.arange(4.0))


def test_flags_are_part_of_the_key(cache):
    text = fresh_kernel_text()
    a = compile_module(parse(text))
    b = compile_module(parse(text), flags=tuple(f for f in DEFAULT_FLAGS if f != "-O3") + ("-O1",))
    assert a.path != b.path and not b.timings.cached


def test_reuse_is_served_from_the_cache(cache):
    """A second compile of the same module runs no gcc and loads the same library, and the
    timings say so (the times themselves are the benchmark's business: benchmarks/sparse_cpu.py)."""
    module = parse(fresh_kernel_text())
    first = compile_module(module)
    assert not first.timings.cached and first.timings.compile > 0
    again = compile_module(module)
    assert again.timings.cached and again.path == first.path and again.timings.compile == 0


WORKER = """
import sys, numpy as np
from treadle.backends.c import compile_module
from treadle.tests.backends.util import parse
lib = compile_module(parse(open(sys.argv[1]).read()))
y = np.ones(1000)
lib.axpy(3.0, np.arange(1000.0), y)
assert (y == 1 + 3 * np.arange(1000.0)).all()
print("cached" if lib.timings.cached else "built")
"""


def test_concurrent_builds_of_one_kernel_are_safe(cache, tmp_path):
    kernel = tmp_path / "kernel.mlir"
    kernel.write_text(fresh_kernel_text())
    env = dict(os.environ, TREADLE_CACHE_DIR=str(tmp_path))
    procs = [
        subprocess.Popen([sys.executable, "-c", WORKER, str(kernel)], env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        for _ in range(6)
    ]
    outcomes = []
    for p in procs:
        out, err = p.communicate(timeout=300)
        assert p.returncode == 0, err
        outcomes.append(out.strip())
    assert outcomes.count("built") == 1, outcomes
    assert len(list(cache.glob("*.so"))) == 1
    assert not [p for p in cache.iterdir() if p.name.endswith(".tmp.so") or p.name.endswith(".tmp")]
