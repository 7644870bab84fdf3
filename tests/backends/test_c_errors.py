"""Bad IR, bad arguments, compiler failures: each is a CompileError with a message that says why."""

import numpy as np
import pytest

from treadle.backends.c import KernelArgumentError, compile_module, compile_source, emit_c
from treadle.backends.c.emitter import CSource
from treadle.errors import CompileError, Error
from treadle.tests.backends.util import parse

COPY = """
func.func @copy(%src: memref<?xf64>, %dst: memref<?xf64>) {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %n = memref.dim %src, %c0 : memref<?xf64>
  scf.for %i = %c0 to %n step %c1 {
    %v = memref.load %src[%i] : memref<?xf64>
    memref.store %v, %dst[%i] : memref<?xf64>
  }
  func.return
}

func.func @fixed(%m: memref<2x3xf32>, %s: i32, %flag: i1) -> i32 {
  %r = arith.select %flag, %s, %s : i32
  func.return %r : i32
}
"""


@pytest.fixture(scope="module")
def lib():
    return compile_module(parse(COPY))


def test_compile_error_is_a_treadle_error():
    assert issubclass(CompileError, Error) and issubclass(KernelArgumentError, CompileError)


@pytest.mark.parametrize(
    "body, message",
    [
        ("%x = arith.constant 1.0 : f16\n  func.return", "unsupported scalar type f16"),
        ('%x = "test.op"() : () -> i32\n  func.return', "unsupported op test.op"),
        ("%c = arith.constant 1 : index\n  %a = memref.alloc(%c) : memref<?xf32>\n  %v = memref.subview %a[0][1][1] : memref<?xf32> to memref<1xf32, strided<[1]>>\n  func.return", "unsupported op memref.subview"),
    ],
)
def test_unsupported_ir_names_the_culprit(body, message):
    with pytest.raises(CompileError, match=message):
        emit_c(parse(f"func.func @f() {{\n  {body}\n}}"))


def test_unsupported_top_level_op():
    with pytest.raises(CompileError, match="unsupported top-level op arith.constant"):
        emit_c(parse("%x = arith.constant 1 : index"))


@pytest.mark.parametrize("name", ["exp", "sqrtf", "while", "treadle_free", "printf"])
def test_function_names_that_clash_with_c_are_rejected(name):
    with pytest.raises(CompileError, match=f"@{name} is not usable"):
        emit_c(parse(f"func.func @{name}() {{\n  func.return\n}}"))


@pytest.mark.parametrize(
    "attr, message",
    [
        ('{treadle.omp = {schedule = "sometimes"}}', "schedule must be one of"),
        ("{treadle.omp = {chunk = 0}}", "chunk .* must be a positive integer"),
        ("{treadle.omp = {chunk = 8}}", "chunk needs schedule"),
        ("{treadle.omp = {color = 1}}", "unknown treadle.omp keys"),
        ("{treadle.omp = 3}", "must be a dictionary"),
    ],
)
def test_malformed_openmp_requests(attr, message):
    text = f"""
func.func @f(%n: index) {{
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  scf.for %i = %c0 to %n step %c1 {{
  }} {attr}
  func.return
}}"""
    with pytest.raises(CompileError, match=message):
        emit_c(parse(text))


def test_openmp_loop_carrying_a_non_reduction_is_rejected():
    text = """
func.func @f(%n: index) -> index {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %r = scf.for %i = %c0 to %n step %c1 iter_args(%last = %c0) -> (index) {
    scf.yield %i : index
  } {treadle.omp = {schedule = "static"}}
  func.return %r : index
}"""
    with pytest.raises(CompileError, match="must be a reduction"):
        emit_c(parse(text))


def test_invalid_ir_is_a_compile_error():
    module = parse("func.func @f(%a: index) -> index {\n  func.return %a : index\n}")
    module.body.block.first_op.body.block.last_op.detach()  # drop the terminator
    with pytest.raises(CompileError, match="does not verify"):
        emit_c(module)


def test_gcc_error_shows_the_message_and_the_c_line():
    source = CSource("int broken(void) {\n  return undefined_name;\n}\n", {})
    with pytest.raises(CompileError) as info:
        compile_source(source)
    text = str(info.value)
    assert "undefined_name" in text and "error:" in text
    assert "C line 2: return undefined_name;" in text


def test_missing_compiler_is_a_clear_error(monkeypatch):
    monkeypatch.setenv("CC", "/nonexistent/bin/cc-does-not-exist")
    with pytest.raises(CompileError, match="C compiler '/nonexistent/bin/cc-does-not-exist' not found"):
        compile_module(parse(COPY.replace("@copy", "@copy_other")))


def test_unwritable_cache_dir_is_a_clear_error(monkeypatch, tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("")
    monkeypatch.setenv("TREADLE_CACHE_DIR", str(blocker / "below-a-file"))
    with pytest.raises(CompileError, match="cannot create cache directory"):
        compile_module(parse(COPY.replace("@copy", "@copy_third")))


def test_wrong_dtype_is_rejected_unless_conversion_is_allowed(lib):
    src, dst = np.arange(5, dtype=np.int32), np.zeros(5)
    with pytest.raises(KernelArgumentError, match="argument 0 must be a C-contiguous float64 array, got int32"):
        lib.copy(src, dst)
    lib.copy(src, dst, convert=True)
    np.testing.assert_array_equal(dst, src)


def test_non_contiguous_input_is_converted_only_when_allowed(lib):
    src, dst = np.arange(10.0)[::2], np.zeros(5)
    with pytest.raises(KernelArgumentError, match="contiguous=False"):
        lib.copy(src, dst)
    lib.copy(src, dst, convert=True)
    np.testing.assert_array_equal(dst, src)


def test_written_argument_is_never_converted(lib):
    src, dst = np.arange(5.0), np.zeros(10)[::2]
    with pytest.raises(KernelArgumentError, match="it is written, so it cannot be converted"):
        lib.copy(src, dst, convert=True)
    with pytest.raises(KernelArgumentError, match="read-only"):
        ro = np.zeros(5)
        ro.flags.writeable = False
        lib.copy(src, ro)


def test_written_argument_may_not_overlap_another(lib):
    buf = np.arange(6.0)
    with pytest.raises(KernelArgumentError, match="argument 1 is written and overlaps argument 0"):
        lib.copy(buf[:3], buf[2:5])
    lib.copy(buf[:3], buf[3:])  # disjoint halves of one buffer are fine
    np.testing.assert_array_equal(buf, [0, 1, 2, 0, 1, 2])


def test_aliasing_allowed_without_restrict():
    lib = compile_module(parse(COPY), restrict=False)
    assert "restrict" not in lib.source.text.split("void copy(")[1].split(")")[0]
    buf = np.arange(4.0)
    lib.copy(buf, buf)
    np.testing.assert_array_equal(buf, np.arange(4.0))


def test_static_shapes_rank_and_scalars_are_checked(lib):
    m = np.zeros((2, 3), np.float32)
    assert lib.fixed(m, 7, True) == 7
    with pytest.raises(KernelArgumentError, match="dimension 1 must be 3, got 4"):
        lib.fixed(np.zeros((2, 4), np.float32), 1, True)
    with pytest.raises(KernelArgumentError, match="rank 2"):
        lib.fixed(np.zeros(6, np.float32), 1, True)
    with pytest.raises(KernelArgumentError, match="does not fit int32"):
        lib.fixed(m, 2**40, True)
    with pytest.raises(KernelArgumentError, match="must be an integer"):
        lib.fixed(m, 1.5, True)
    with pytest.raises(KernelArgumentError, match="must be a bool"):
        lib.fixed(m, 1, 3)
    with pytest.raises(KernelArgumentError, match="expected 3 arguments, got 2"):
        lib.fixed(m, 1)
    with pytest.raises(AttributeError, match="no compiled function 'nope'"):
        lib.nope  # noqa: B018


def test_call_passing_one_memref_twice_needs_restrict_off():
    text = """
func.func private @copy1(%a: memref<1xf32>, %b: memref<1xf32>) {
  %c0 = arith.constant 0 : index
  %v = memref.load %a[%c0] : memref<1xf32>
  memref.store %v, %b[%c0] : memref<1xf32>
  func.return
}
func.func @twice(%a: memref<1xf32>) {
  func.call @copy1(%a, %a) : (memref<1xf32>, memref<1xf32>) -> ()
  func.return
}"""
    with pytest.raises(CompileError, match="passes the same memref twice to @copy1"):
        emit_c(parse(text))
    emit_c(parse(text), restrict=False)


def test_value_names_that_clash_with_c_headers_are_renamed():
    text = """
func.func @names(%EOF: i64, %NULL: i64, %errno: i64, %INT64_MAX: i64, %M_PI: f64, %exp: f64, %isnan: f64) -> f64 {
  %a = arith.addi %EOF, %NULL : i64
  %b = arith.addi %a, %errno : i64
  %INT8_C = arith.addi %b, %INT64_MAX : i64
  %f = arith.sitofp %INT8_C : i64 to f64
  %g = arith.addf %f, %M_PI : f64
  %h = arith.addf %g, %exp : f64
  %r = arith.addf %h, %isnan : f64
  func.return %r : f64
}"""
    lib = compile_module(parse(text))
    assert lib.names(1, 2, 3, 4, 0.5, 0.25, 0.125) == 10.875
    for bad in ("EOF", "NULL", "errno", "isnan", "memcpy", "INT64_MAX", "M_PI"):
        with pytest.raises(CompileError, match=f"@{bad} is not usable"):
            emit_c(parse(f"func.func @{bad}() {{\n  func.return\n}}"))


def test_torch_tensors_are_used_in_place(lib):
    torch = pytest.importorskip("torch")
    src, dst = torch.arange(5, dtype=torch.float64), torch.zeros(5, dtype=torch.float64)
    lib.copy(src, dst)
    assert torch.equal(dst, src)
    with pytest.raises(KernelArgumentError, match="argument 1 must be a C-contiguous float64 array"):
        lib.copy(src, torch.zeros(10, dtype=torch.float64)[::2])
    with pytest.raises(KernelArgumentError, match="argument 0 cannot be viewed as a numpy array"):
        lib.copy(torch.ones(5, dtype=torch.float64, requires_grad=True), dst)


def test_prepared_call_checks_what_call_checks(lib):
    """`call_prepared` (the runtime's fast path) runs on fitting arrays, views at an offset
    included (it reads the data pointer itself), and hands anything else to `__call__`'s checks."""
    src = np.arange(12.0)[4:9]  # a view: its data starts 32 bytes into the buffer
    dst = np.zeros(5)
    lib.copy.call_prepared(src, dst)
    np.testing.assert_array_equal(dst, [4, 5, 6, 7, 8])
    with pytest.raises(KernelArgumentError, match="got int32"):
        lib.copy.call_prepared(np.arange(5, dtype=np.int32), dst)
    with pytest.raises(KernelArgumentError, match="contiguous=False"):
        lib.copy.call_prepared(np.arange(10.0)[::2], dst)
    ro = np.zeros(5)
    ro.flags.writeable = False
    with pytest.raises(KernelArgumentError, match="read-only"):
        lib.copy.call_prepared(src, ro)
    with pytest.raises(KernelArgumentError, match="expected 2 arguments, got 1"):
        lib.copy.call_prepared(src)
