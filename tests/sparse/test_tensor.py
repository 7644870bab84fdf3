"""treadle.tensor: every format stores and returns exactly the input (numpy, scipy, torch)."""

import numpy as np
import pytest
import scipy.sparse as sp
import torch
from hypothesis import given
from hypothesis import strategies as st

import treadle
from treadle.dialects.sparse import format_name, named_encoding
from treadle.tests.sparse.strategies import FORMATS_BY_RANK, dims, formats_for, sparse_arrays


@st.composite
def arrays_and_formats(draw):
    rank = draw(st.integers(0, 3))
    shape = tuple(draw(dims) for _ in range(rank))
    return draw(sparse_arrays(shape)), draw(st.sampled_from(formats_for(shape)))


@given(arrays_and_formats())
def test_every_format_round_trips(case):
    array, fmt = case
    t = treadle.tensor(array, format=fmt)
    assert t.shape == array.shape
    assert t.format == format_name(named_encoding(fmt, array.ndim), array.ndim)
    np.testing.assert_array_equal(t.to_numpy(), array)
    if fmt == "dense":
        assert t.nnz == array.size
    elif not fmt.startswith("bsr:"):
        assert t.nnz == np.count_nonzero(array)
    # Converting between formats keeps the values.
    for other in formats_for(array.shape):
        np.testing.assert_array_equal(treadle.tensor(t, format=other).to_numpy(), array)


@given(arrays_and_formats())
def test_to_torch_matches(case):
    array, fmt = case
    out = treadle.tensor(array, format=fmt).to_torch()
    dense = out.to_dense() if out.layout != torch.strided else out
    np.testing.assert_array_equal(dense.numpy(), array)
    expected_layout = {
        "dense": torch.strided,
        "csr": torch.sparse_csr,
        "csc": torch.sparse_csc,
    }.get(fmt, torch.sparse_bsr if fmt.startswith("bsr:") else torch.sparse_coo)
    assert out.layout == expected_layout


@given(sparse_arrays((5, 6)), st.sampled_from(formats_for((5, 6)) + ["bsr:5x3"]))
def test_to_scipy_keeps_storage(array, fmt):
    m = treadle.tensor(array, format=fmt).to_scipy()
    np.testing.assert_array_equal(m.toarray(), array)
    if fmt in ("csr", "csc"):
        assert m.format == fmt
    if fmt.startswith("bsr:"):
        assert m.format == "bsr"


@given(sparse_arrays((6, 4)))
def test_from_scipy_and_torch_layouts(array):
    for m, fmt in [
        (sp.csr_matrix(array), "csr"),
        (sp.csc_matrix(array), "csc"),
        (sp.coo_matrix(array), "coo"),
        (sp.bsr_matrix(array, blocksize=(2, 2)), "bsr:2x2"),
    ]:
        t = treadle.tensor(m)
        assert t.format == fmt
        np.testing.assert_array_equal(t.to_numpy(), array)
    dense = torch.from_numpy(array)
    for layout_tensor, fmt in [
        (dense, "dense"),
        (dense.to_sparse(), "coo"),
        (dense.to_sparse_csr(), "csr"),
        (dense.to_sparse_csc(), "csc"),
        (dense.to_sparse_bsr((2, 2)), "bsr:2x2"),
    ]:
        t = treadle.tensor(layout_tensor)
        assert t.format == fmt
        np.testing.assert_array_equal(t.to_numpy(), array)


def test_csr_storage_is_the_textbook_layout():
    a = np.array([[0, 1.0, 0, 2.0], [0, 0, 0, 0], [3.0, 0, 0, 4.0]])
    t = treadle.tensor(a, format="csr")
    np.testing.assert_array_equal(t.levels[1].pos, [0, 2, 2, 4])
    np.testing.assert_array_equal(t.levels[1].crd, [1, 3, 0, 3])
    np.testing.assert_array_equal(t.values, [1, 2, 3, 4])
    coo = treadle.tensor(a, format="coo")
    np.testing.assert_array_equal(coo.levels[0].pos, [0, 4])
    np.testing.assert_array_equal(coo.levels[0].crd, [0, 0, 2, 2])
    np.testing.assert_array_equal(coo.levels[1].crd, [1, 3, 0, 3])
    bsr = treadle.tensor(a[:2], format="bsr:2x2")
    np.testing.assert_array_equal(bsr.levels[1].pos, [0, 2])
    np.testing.assert_array_equal(bsr.levels[1].crd, [0, 1])
    np.testing.assert_array_equal(bsr.values, [0, 1, 0, 0, 0, 2, 0, 0])


def test_index_widths_follow_the_encoding():
    from treadle.dialects.sparse import EncodingAttr

    base = named_encoding("csr", 2)
    narrow = EncodingAttr(base.names, base.levels.data, 32, 16)
    t = treadle.tensor(np.eye(3), format=narrow)
    assert t.levels[1].pos.dtype == np.int32 and t.levels[1].crd.dtype == np.int16
    np.testing.assert_array_equal(t.to_numpy(), np.eye(3))


@pytest.mark.parametrize(
    "data, fmt, message",
    [
        (np.eye(3), "blocked", "unknown format 'blocked'"),
        (np.eye(3), "csf", "format 'csf' is for rank 3, but the tensor has rank 2"),
        (np.eye(3), "bsr:2x2", "dimension 0 of size 3 is not a multiple of the block size 2"),
        (np.eye(3), "bsr:2", "must look like bsr:RxC"),
        (np.array(["a"]), None, "tensor values must be numbers"),
    ],
)
def test_bad_formats_raise_treadle_errors(data, fmt, message):
    with pytest.raises(treadle.Error, match=message):
        treadle.tensor(data, format=fmt)


def test_named_formats_cover_every_rank():
    for rank, names in FORMATS_BY_RANK.items():
        for name in names:
            if rank == 0 and name != "dense":
                continue
            encoding = named_encoding(name, rank)
            assert encoding.rank == rank
