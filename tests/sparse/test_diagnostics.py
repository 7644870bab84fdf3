"""Bad input gives a located diagnostic and a non-zero exit, never a traceback (>= 15 kinds)."""

import os
import re
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

import treadle

BIN = Path(sys.executable).parent
CSR = "#sparse.encoding<{map = (i, j) -> (i : dense, j : compressed)}>"


def _assign(statement: str, where: str, types: str) -> str:
    return (
        "func.func @f(%A: tensor<8x8xf64>, %x: tensor<8xf64>, %z: tensor<9xf64>) {\n"
        f"  %y = sparse.assign {statement} where {where} : {types}\n"
        "  func.return\n}\n"
    )


# kind -> (IR text, expected "line:col: error: message" fragment)
BAD_IR = {
    "malformed IR": ("func.func @f( {\n", r"1:\d+: error: "),
    "unknown operation": ("func.func @f() {\n  sparse.nope\n  func.return\n}\n", r"2:\d+: error: Operation sparse.nope is not registered"),
    "unknown level type": (f"func.func @f(%a: tensor<8xf64, #sparse.encoding<{{map = (i) -> (i : sparse)}}>>) {{ func.return }}", r"1:\d+: error: unknown level type 'sparse'"),
    "unknown level property": (f"func.func @f(%a: tensor<8xf64, #sparse.encoding<{{map = (i) -> (i : compressed(fast))}}>>) {{ func.return }}", r"\d+:\d+: error: unknown level property 'fast'"),
    "encoding missing a dimension": (f"func.func @f(%a: tensor<8x8xf64, #sparse.encoding<{{map = (i, j) -> (j : compressed)}}>>) {{ func.return }}", r"\d+:\d+: error: invalid sparse encoding: dimension 'i' is not stored"),
    "encoding rank mismatch": (_assign("y(i) = x(i)", "x = %x", f"tensor<8xf64, {CSR}> -> tensor<8xf64>").replace("%x: tensor<8xf64>", f"%x: tensor<8xf64, {CSR}>"), r"2:3: error: 'sparse.assign' op tensor 'x' has rank 1 but its encoding maps 2"),
    "wrong rank in a statement": (_assign("y(i) = A(i, j, k) * x(j)", "A = %A, x = %x", "tensor<8x8xf64>, tensor<8xf64> -> tensor<8xf64>"), r"2:3: error: 'sparse.assign' op tensor 'A' has rank 2 but is accessed with 3 indices"),
    "shape mismatch": (_assign("y(i) = A(i, j) * z(j)", "A = %A, z = %z", "tensor<8x8xf64>, tensor<9xf64> -> tensor<8xf64>"), r"2:3: error: .*shape mismatch: index 'j' ranges over 8 \(A dimension 1\) and 9 \(z dimension 0\)"),
    "output shape mismatch": (_assign("y(i) = A(i, j) * x(j)", "A = %A, x = %x", "tensor<8x8xf64>, tensor<8xf64> -> tensor<9xf64>"), r"2:3: error: .*output 'y' has size 9"),
    "unbound tensor": (_assign("y(i) = A(i, j) * w(j)", "A = %A", "tensor<8x8xf64> -> tensor<8xf64>"), r"2:3: error: .*tensor 'w' is not bound"),
    "unused binding": (_assign("y(i) = x(i)", "x = %x, A = %A", "tensor<8xf64>, tensor<8x8xf64> -> tensor<8xf64>"), r"\d+:\d+: error: .*tensor 'A' is bound by 'where' but never used"),
    "element type mismatch": (_assign("y(i) = x(i)", "x = %x", "tensor<8xf64> -> tensor<8xf32>"), r"\d+:\d+: error: .*tensor 'x' has element type f64 but the output 'y' has f32"),
    "output index not on the right": (_assign("y(i, j) = x(i)", "x = %x", "tensor<8xf64> -> tensor<8x8xf64>"), r"\d+:\d+: error: .*output index 'j' of 'y' does not appear"),
    "malformed index notation": (_assign("y(i) = x(i) +", "x = %x", "tensor<8xf64> -> tensor<8xf64>"), r"2:\d+: error: expected an index-notation expression"),
    "bad schedule": (_assign("y(i) = A(i, j)", "A = %A", "tensor<8x8xf64> -> tensor<8xf64> schedule #sparse.schedule<order = [i, k]>"), r"\d+:\d+: error: .*schedule order \[i, k\] must be a permutation"),
    "block size not dividing": (f"func.func @f(%a: tensor<6x8xf64, #sparse.encoding<{{map = (i, j) -> (i floordiv 4 : dense, j floordiv 4 : compressed, i mod 4 : dense, j mod 4 : dense)}}>>) {{\n  %c = sparse.convert %a : tensor<6x8xf64, #sparse.encoding<{{map = (i, j) -> (i floordiv 4 : dense, j floordiv 4 : compressed, i mod 4 : dense, j mod 4 : dense)}}>> to tensor<6x8xf64>\n  func.return\n}}", r"2:3: error: .*dimension 0 of size 6 is not a multiple of its block size 4"),
}


def _opt(*args: str, stdin: str | None = None) -> subprocess.CompletedProcess:
    env = dict(os.environ, PATH=f"{BIN}{os.pathsep}{os.environ['PATH']}")
    return subprocess.run(
        [str(BIN / "treadle-opt"), *args], input=stdin, capture_output=True, text=True, env=env, timeout=60
    )


@pytest.mark.parametrize("kind", sorted(BAD_IR))
def test_bad_ir_gets_a_located_diagnostic(kind, tmp_path):
    text, pattern = BAD_IR[kind]
    path = tmp_path / "bad.mlir"
    path.write_text(text)
    result = _opt(str(path))
    assert result.returncode == 1, result.stderr
    assert "Traceback" not in result.stderr
    assert re.search(f"bad.mlir:{pattern}", result.stderr), result.stderr
    # The same text through the Python API raises a treadle.Error with the same diagnostic.
    with pytest.raises(treadle.Error) as err:
        treadle.parse(text, name="bad.mlir")
    assert re.search(f"bad.mlir:{pattern}", str(err.value))


@pytest.mark.parametrize(
    "args, message",
    [
        (["-p", "no-such-pass"], "Unrecognized passes: ['no-such-pass']"),
        (["-p", "sparse-explicit-reductions{depth=2}"], 'Provided arguments ["depth"] not found'),
        (["-p", "cse{"], "Error parsing pass pipeline specification"),
    ],
)
def test_bad_pipelines(args, message):
    result = _opt(*args, stdin="func.func @f() { func.return }")
    assert result.returncode == 1 and message in result.stderr and "Traceback" not in result.stderr
    with pytest.raises(treadle.PipelineError, match=re.escape(message)):
        treadle.run_pipeline(treadle.parse("func.func @f() { func.return }"), args[1])


@pytest.mark.parametrize(
    "statement, operands, message",
    [
        ("y(i) = A(i,j) * q(j)", {}, "<einsum>:1:1: error: tensor 'q' is not given"),
        ("y(i) = A(i,j,k) * x(j)", {}, "tensor 'A' has rank 2 but is accessed with 3 indices"),
        ("y(i) = A(i,j) * x(j) +", {}, "<einsum>:1:23: error: expected an index-notation expression"),
        ("y(i) = A(i, j) * x(i)", {}, "shape mismatch: index 'i' ranges over 4 (A dimension 0) and 3"),
        ("y(i) = A(i,j) * x(j)\ny(i) = x(i)", {}, "<einsum>:2:1: error: 'y' is already defined"),
        ("exp(i) = x(i)", {}, "'exp' is reserved"),
    ],
)
def test_einsum_errors_are_located(statement, operands, message):
    with pytest.raises(treadle.Error) as err:
        treadle.einsum(statement, A=np.ones((4, 3)), x=np.ones(3), **operands)
    assert message in str(err.value)


def test_numpy_notation_errors():
    with pytest.raises(treadle.Error, match="names 2 operands but 1 were given"):
        treadle.einsum("ij,j->i", np.ones((2, 2)))
    with pytest.raises(treadle.Error, match="ellipsis"):
        treadle.einsum("...i,i", np.ones(2), np.ones(2))


def test_driver_never_imports_torch():
    code = (
        "import sys; from treadle.tools.opt import TreadleOptMain; "
        "TreadleOptMain(['--list-passes']); print('torch' in sys.modules)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert out.stdout.strip() == "False", out.stderr
