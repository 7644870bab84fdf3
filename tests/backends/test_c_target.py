"""`-t c`: the registered target prints the same C as `emit_c`."""

import io

from xdsl.context import Context

from treadle.backends.c import CTarget, emit_c
from treadle.tests.backends.util import parse
from treadle.tools.registry import TARGETS

TEXT = """
func.func @inc(%x: memref<?xi32>) {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %one = arith.constant 1 : i32
  %n = memref.dim %x, %c0 : memref<?xi32>
  scf.for %i = %c0 to %n step %c1 {
    %v = memref.load %x[%i] : memref<?xi32>
    %w = arith.addi %v, %one : i32
    memref.store %w, %x[%i] : memref<?xi32>
  } {treadle.omp = {schedule = "guided", chunk = 16}}
  func.return
}
"""


def test_registry_names_the_c_target():
    assert TARGETS["c"]() is CTarget
    assert CTarget.name == "c"


def test_target_prints_c():
    out = io.StringIO()
    CTarget().emit(Context(), parse(TEXT), out)
    text = out.getvalue()
    assert text == emit_c(parse(TEXT)).text
    assert "void inc(int32_t* restrict x, int64_t x_dim0) {" in text
    assert "#pragma omp parallel for schedule(guided, 16)" in text
    assert "x[i] = w;" in text


def test_target_option_drops_restrict():
    out = io.StringIO()
    CTarget(restrict=False).emit(Context(), parse(TEXT), out)
    assert "void inc(int32_t* x, int64_t x_dim0) {" in out.getvalue()
