"""The sparse dialect's printer, parser and explicit-reduction pass on random statements."""

import numpy as np
from hypothesis import given
from hypothesis import strategies as st

import treadle
from treadle.dialects.sparse import (
    AccessAttr,
    AssignOp,
    BinaryAttr,
    ConstantAttr,
    ReduceAttr,
    UnaryAttr,
)
from treadle.interpreters.sparse import run_reference

ACCESSES = [AccessAttr("A", "ij"), AccessAttr("B", "ij"), AccessAttr("x", "j"), AccessAttr("z", "i")]

leaves = st.one_of(
    st.sampled_from(ACCESSES),
    st.floats(-3, 3, allow_nan=False).map(lambda v: ConstantAttr(round(v, 3))),
)
expressions = st.recursive(
    leaves,
    lambda children: st.one_of(
        st.tuples(st.sampled_from(["add", "sub", "mul", "div"]), children, children).map(
            lambda t: BinaryAttr(*t)
        ),
        st.tuples(st.sampled_from(["relu", "neg", "abs", "exp"]), children).map(
            lambda t: UnaryAttr(*t)
        ),
    ),
    max_leaves=6,
)

SIGNATURE = (
    "func.func @main(%A: tensor<3x4xf64, #sparse.encoding<{map = (i, j) -> (i : dense, j : compressed)}>>, "
    "%B: tensor<3x4xf64>, %x: tensor<4xf64>, %z: tensor<3xf64>) -> tensor<3xf64> {\n"
)


def _program(notation: str) -> str:
    names = [n for n in ("A", "B", "x", "z") if f"{n}(" in notation]
    types = {"A": "tensor<3x4xf64, #sparse.encoding<{map = (i, j) -> (i : dense, j : compressed)}>>",
             "B": "tensor<3x4xf64>", "x": "tensor<4xf64>", "z": "tensor<3xf64>"}
    where = ", ".join(f"{n} = %{n}" for n in names)
    return (
        SIGNATURE
        + f"  %y = sparse.assign y(i) = {notation} where {where} : "
        + ", ".join(types[n] for n in names)
        + " -> tensor<3xf64>\n  func.return %y : tensor<3xf64>\n}\n"
    )


INPUTS = (
    np.array([[0, 1.5, 0, -2], [0, 0, 0, 0], [3, 0, 0.5, 1]]),
    np.arange(12.0).reshape(3, 4) / 7,
    np.array([0.5, -1, 2, 0.25]),
    np.array([1.0, -2, 0.5]),
)


@given(expressions.filter(lambda e: "i" in e.free_indices() or any(True for _ in e.accesses())))
def test_print_parse_and_explicit_reductions_agree(expr):
    notation = expr.notation()
    if "i" not in expr.free_indices():
        notation = f"({notation}) * z(i)"
    module = treadle.parse(_program(notation))
    op = next(o for o in module.walk() if isinstance(o, AssignOp))
    # The printed notation parses back to the same tree.
    assert treadle.parse(str(module)).is_structurally_equivalent(module)
    names = op.names
    args = [INPUTS["ABxz".index(n)] for n in ("A", "B", "x", "z")]
    before = run_reference(module, "main", tuple(args))[0]
    treadle.run_pipeline(module, "sparse-explicit-reductions")
    op = next(o for o in module.walk() if isinstance(o, AssignOp))
    assert not set(op.expr.free_indices()) - {"i"}  # every other index is now under a sum
    after = run_reference(module, "main", tuple(args))[0]
    np.testing.assert_allclose(after, before, equal_nan=True)
    assert names == op.names


def test_explicit_reductions_are_idempotent_and_placed_per_term():
    module = treadle.parse(_program("A(i, j) * x(j) + z(i) - sum[k](B(i, k))"))
    treadle.run_pipeline(module, "sparse-explicit-reductions")
    text = str(module)
    assert "y(i) = sum[j](A(i, j) * x(j)) + z(i) - sum[k](B(i, k))" in text
    treadle.run_pipeline(module, "sparse-explicit-reductions")
    assert str(module) == text


def test_reduce_attr_free_indices():
    body = BinaryAttr("mul", AccessAttr("A", "ij"), AccessAttr("x", "j"))
    assert ReduceAttr(["j"], body).free_indices() == ("i",)


def test_encoding_hash_is_cached_consistent_and_not_pickled():
    """EncodingAttr caches its hash (the runtime hashes encodings on every kernel lookup);
    equal encodings still hash alike, and a pickle carries the parameters, not the hash."""
    import pickle

    from treadle.dialects.sparse import named_encoding

    csr, csr2, coo = named_encoding("csr", 2), named_encoding("csr", 2), named_encoding("coo", 2)
    assert csr is not csr2 and csr == csr2 and hash(csr) == hash(csr2) == hash(csr)
    assert csr != coo and len({csr, csr2, coo}) == 2
    copy = pickle.loads(pickle.dumps(csr))
    assert copy == csr and "_hash" not in copy.__dict__ and hash(copy) == hash(csr)
