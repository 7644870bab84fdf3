"""treadle.einsum against numpy on hypothesis-generated kernels over every named format."""

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import treadle
from treadle.tests.sparse.strategies import formats_for, sparse_arrays

small = st.sampled_from([0, 1, 2, 4, 6])
nonzero = st.sampled_from([1, 2, 4, 6])

# name: (statement, {tensor: index letters}, numpy einsum spec, output indices)
KERNELS = {
    "spmv": ("y(i) = A(i,j) * x(j)", {"A": "ij", "x": "j"}, "ij,j->i"),
    "spmm": ("C(i,k) = A(i,j) * B(j,k)", {"A": "ij", "B": "jk"}, "ij,jk->ik"),
    "sddmm": ("S(i,j) = A(i,j) * (D(i,k) * E(k,j))", {"A": "ij", "D": "ik", "E": "kj"}, "ij,ik,kj->ij"),
    "spgemm": ("C(i,k) = A(i,j) * B(j,k)", {"A": "ij", "B": "jk"}, "ij,jk->ik"),
    "mul": ("C(i,j) = A(i,j) * B(i,j)", {"A": "ij", "B": "ij"}, "ij,ij->ij"),
    "ttv": ("Y(i,j) = T(i,j,k) * c(k)", {"T": "ijk", "c": "k"}, "ijk,k->ij"),
    "mttkrp": ("M(i,r) = T(i,j,k) * U(j,r) * V(k,r)", {"T": "ijk", "U": "jr", "V": "kr"}, "ijk,jr,kr->ir"),
    "dot": ("s = x(i) * z(i)", {"x": "i", "z": "i"}, "i,i->"),
}


@st.composite
def kernel_case(draw, name):
    statement, operands, spec = KERNELS[name]
    sizes = {}
    arrays = {}
    for tensor_name, letters in operands.items():
        shape = tuple(sizes.setdefault(c, draw(small if c != "r" else nonzero)) for c in letters)
        array = draw(sparse_arrays(shape))
        arrays[tensor_name] = (array, draw(st.sampled_from(formats_for(shape))))
    output_rank = len(spec.split("->")[1])
    out_shape = tuple(sizes[c] for c in spec.split("->")[1])
    out_format = draw(st.sampled_from(formats_for(out_shape))) if output_rank else "dense"
    return statement, spec, arrays, out_format


@pytest.mark.parametrize("name", sorted(KERNELS))
@given(data=st.data())
def test_kernel_matches_numpy(name, data):
    statement, spec, arrays, out_format = data.draw(kernel_case(name))
    tensors = {n: treadle.tensor(a, format=f) for n, (a, f) in arrays.items()}
    result = treadle.einsum(statement, format=out_format, **tensors)
    expected = np.einsum(spec, *(a for a, _ in arrays.values()))
    assert result.shape == expected.shape
    np.testing.assert_allclose(result.to_numpy(), expected, rtol=1e-12, atol=1e-12)


@given(sparse_arrays((4, 6)), sparse_arrays((4, 6)), st.sampled_from(formats_for((4, 6))))
def test_sparse_add_and_sub(a, b, fmt):
    A, B = treadle.tensor(a, format=fmt), treadle.tensor(b, format="csr")
    np.testing.assert_allclose(treadle.einsum("C(i,j) = A(i,j) + B(i,j)", A=A, B=B).to_numpy(), a + b)
    np.testing.assert_allclose(
        treadle.einsum("C(i,j) = A(i,j) - 2.0 * B(i,j)", A=A, B=B, format="dcsr").to_numpy(), a - 2 * b
    )
    # A sum that is reduced: each index only on the right is summed over the term holding it.
    np.testing.assert_allclose(
        treadle.einsum("y(i) = A(i,j) + B(i,j)", A=A, B=B).to_numpy(), (a + b).sum(axis=1)
    )


@given(sparse_arrays((5, 3)), sparse_arrays((3,)), sparse_arrays((5,)))
def test_reduction_placement_and_unary_functions(a, x, z):
    A, X, Z = treadle.tensor(a, format="csr"), treadle.tensor(x), treadle.tensor(z, format="compressed")
    got = treadle.einsum("y(i) = A(i,j) * x(j) + z(i)", A=A, x=X, z=Z).to_numpy()
    np.testing.assert_allclose(got, a @ x + z)
    got = treadle.einsum("y(i) = relu(sum[j](A(i,j) * x(j))) - abs(z(i))", A=A, x=X, z=Z).to_numpy()
    np.testing.assert_allclose(got, np.maximum(a @ x, 0) - np.abs(z))
    got = treadle.einsum("y(i) = exp(-A(i,j))", A=A).to_numpy()
    np.testing.assert_allclose(got, np.exp(-a).sum(axis=1))
    got = treadle.einsum("y(i) = sqrt(z(i) * z(i)) / 2.0", z=Z).to_numpy()
    np.testing.assert_allclose(got, np.abs(z) / 2)


@given(sparse_arrays((4, 4)), sparse_arrays((4, 4)), sparse_arrays((4, 4)))
def test_multi_statement_program(a, b, m):
    got = treadle.einsum(
        "T(i,j) = A(i,k) * B(k,j)\nC(i,j) = M(i,j) * T(i,j)",
        A=treadle.tensor(a, format="csr"),
        B=treadle.tensor(b, format="csc"),
        M=treadle.tensor(m, format="coo"),
        format="csr",
    )
    assert got.format == "csr"
    np.testing.assert_allclose(got.to_numpy(), m * (a @ b))


@given(sparse_arrays((3, 4)), sparse_arrays((4,)))
def test_numpy_notation(a, x):
    np.testing.assert_allclose(treadle.einsum("ij,j->i", a, x).to_numpy(), a @ x)
    np.testing.assert_allclose(treadle.einsum("ij,j", a, x).to_numpy(), a @ x)  # implicit output
    np.testing.assert_allclose(treadle.einsum("ij->ji", a).to_numpy(), a.T)
    np.testing.assert_allclose(treadle.einsum("ij->", a).to_numpy(), a.sum())


def test_float32_stays_float32():
    a = np.eye(3, dtype=np.float32)
    y = treadle.einsum("y(i) = A(i,j) * x(j)", A=treadle.tensor(a, format="csr"), x=np.ones(3, np.float32))
    assert y.dtype == np.float32


def test_zero_dimensional_result():
    s = treadle.einsum("s = A(i,j) * A(i,j)", A=treadle.tensor(np.ones((2, 3)), format="coo"))
    assert s.shape == () and float(s.to_numpy()) == 6.0


def test_public_pipeline_api():
    """treadle.parse / run_pipeline / passes, also after a compiled run has imported the passes
    package (which would otherwise shadow `treadle.passes`)."""
    treadle.einsum("ij,j->i", np.eye(3), np.ones(3))
    listed = treadle.passes()
    assert listed["sparse-tile"]["options"] == {"index": ("str", ""), "size": ("int", 32)}
    assert listed["sparse-to-loops"]["description"].startswith("Lower every single-statement")
    module = treadle.parse(
        """
func.func @f(%A: tensor<4x4xf64, #sparse.encoding<"csr">>, %x: tensor<4xf64>) -> tensor<4xf64> {
  %y = sparse.assign y(i) = A(i, j) * x(j) where A = %A, x = %x : tensor<4x4xf64, #sparse.encoding<"csr">>, tensor<4xf64> -> tensor<4xf64>
  func.return %y : tensor<4xf64>
}"""
    )
    treadle.run_pipeline(module, "sparse-order-loops,sparse-tile{index=j size=2}")
    assert "not tiled: index j is carried by a sparse operand" in str(module)
    with pytest.raises(treadle.PipelineError, match="no-such-pass"):
        treadle.run_pipeline(module, "no-such-pass")
