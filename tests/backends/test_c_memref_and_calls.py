"""Buffers and calls: alloc/alloca/dealloc/copy/cast/dim, memref and scalar results, func.call."""

import gc

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from treadle.backends.c import compile_module
from treadle.tests.backends.util import parse

SETTINGS = settings(max_examples=30, deadline=None)

MODULE = """
func.func private @row_sums(%A: memref<?x?xf64>) -> memref<?xf64> {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %zero = arith.constant 0.0 : f64
  %m = memref.dim %A, %c0 : memref<?x?xf64>
  %n = memref.dim %A, %c1 : memref<?x?xf64>
  %out = memref.alloc(%m) : memref<?xf64>
  scf.for %i = %c0 to %m step %c1 {
    %s = scf.for %j = %c0 to %n step %c1 iter_args(%acc = %zero) -> (f64) {
      %a = memref.load %A[%i, %j] : memref<?x?xf64>
      %acc2 = arith.addf %acc, %a : f64
      scf.yield %acc2 : f64
    }
    memref.store %s, %out[%i] : memref<?xf64>
  }
  func.return %out : memref<?xf64>
}

func.func private @total(%v: memref<?xf64>) -> f64 {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %zero = arith.constant 0.0 : f64
  %n = memref.dim %v, %c0 : memref<?xf64>
  %s = scf.for %i = %c0 to %n step %c1 iter_args(%acc = %zero) -> (f64) {
    %a = memref.load %v[%i] : memref<?xf64>
    %acc2 = arith.addf %acc, %a : f64
    scf.yield %acc2 : f64
  }
  func.return %s : f64
}

func.func @summarize(%A: memref<?x?xf64>, %copy: memref<?xf64>) -> (memref<?xf64>, f64) {
  %rs = func.call @row_sums(%A) : (memref<?x?xf64>) -> memref<?xf64>
  %t = func.call @total(%rs) : (memref<?xf64>) -> f64
  "memref.copy"(%rs, %copy) : (memref<?xf64>, memref<?xf64>) -> ()
  func.return %rs, %t : memref<?xf64>, f64
}

func.func @dim(%A: memref<?x5x?xi32>, %k: index) -> index {
  %d = memref.dim %A, %k : memref<?x5x?xi32>
  func.return %d : index
}

func.func @squares_via_scratch(%x: memref<4xf32>) -> f32 {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %zero = arith.constant 0.0 : f32
  %dyn = "memref.cast"(%x) : (memref<4xf32>) -> memref<?xf32>
  %n = memref.dim %dyn, %c0 : memref<?xf32>
  %tmp = memref.alloca() : memref<4xf32>
  scf.for %i = %c0 to %n step %c1 {
    %v = memref.load %dyn[%i] : memref<?xf32>
    %sq = arith.mulf %v, %v : f32
    memref.store %sq, %tmp[%i] : memref<4xf32>
  }
  %s = scf.for %i = %c0 to %n step %c1 iter_args(%acc = %zero) -> (f32) {
    %v = memref.load %tmp[%i] : memref<4xf32>
    %acc2 = arith.addf %acc, %v : f32
    scf.yield %acc2 : f32
  }
  func.return %s : f32
}

func.func @identity(%x: memref<?xf64>) -> memref<?xf64> {
  func.return %x : memref<?xf64>
}

func.func @store_scalar(%r: memref<i64>, %v: i64) {
  memref.store %v, %r[] : memref<i64>
  func.return
}

func.func @relu_in_place(%x: memref<?xf64>) {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %zero = arith.constant 0.0 : f64
  %n = memref.dim %x, %c0 : memref<?xf64>
  scf.for %i = %c0 to %n step %c1 {
    %v = memref.load %x[%i] : memref<?xf64>
    %neg = arith.cmpf olt, %v, %zero : f64
    scf.if %neg {
      memref.store %zero, %x[%i] : memref<?xf64>
    }
  }
  func.return
}

func.func @triangle(%n: index) -> i64 {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %zero = arith.constant 0 : i64
  %buf = memref.alloc(%n) : memref<?xi64>
  scf.for %i = %c0 to %n step %c1 {
    %v = arith.index_cast %i : index to i64
    memref.store %v, %buf[%i] : memref<?xi64>
  }
  %s = scf.for %i = %c0 to %n step %c1 iter_args(%acc = %zero) -> (i64) {
    %v = memref.load %buf[%i] : memref<?xi64>
    %acc2 = arith.addi %acc, %v : i64
    scf.yield %acc2 : i64
  }
  memref.dealloc %buf : memref<?xi64>
  func.return %s : i64
}
"""


@pytest.fixture(scope="module")
def lib():
    return compile_module(parse(MODULE))


def test_private_helpers_are_static_and_not_exported(lib):
    assert "static void row_sums(" in lib.source.text
    with pytest.raises(AttributeError):
        lib.row_sums  # noqa: B018


@SETTINGS
@given(a=arrays(np.float64, st.tuples(st.integers(0, 12), st.integers(0, 12)), elements=st.floats(-1e3, 1e3)))
def test_calls_and_returned_buffers(lib, a):
    copy = np.full(a.shape[0], np.nan)
    sums, total = lib.summarize(a, copy)
    np.testing.assert_allclose(sums, a.sum(axis=1), rtol=1e-12, atol=1e-9)
    np.testing.assert_array_equal(copy, sums)
    assert total == pytest.approx(float(sums.sum()), rel=1e-12, abs=1e-9)
    assert sums.dtype == np.float64 and sums.shape == (a.shape[0],)


def test_returned_buffer_is_freed_with_its_array(lib):
    a = np.ones((3, 4))
    sums, _ = lib.summarize(a, np.zeros(3))
    view = sums[1:]
    del sums
    gc.collect()
    np.testing.assert_array_equal(view, [4.0, 4.0])  # a view keeps the buffer alive
    del view
    gc.collect()


@SETTINGS
@given(shape=st.tuples(st.integers(0, 4), st.just(5), st.integers(0, 4)), k=st.integers(0, 2))
def test_dim_with_a_runtime_index(lib, shape, k):
    assert lib.dim(np.zeros(shape, np.int32), k) == shape[k]


@SETTINGS
@given(x=arrays(np.float32, 4, elements=st.floats(-100, 100, width=32)))
def test_alloca_scratch_and_cast(lib, x):
    assert lib.squares_via_scratch(x) == pytest.approx(float((x.astype(np.float64) ** 2).sum()), rel=1e-5, abs=1e-5)


def test_returning_an_argument_gives_a_view_of_it(lib):
    x = np.arange(5.0)
    y = lib.identity(x)
    assert np.shares_memory(x, y)
    np.testing.assert_array_equal(y, x)


@SETTINGS
@given(v=st.integers(-(2**63), 2**63 - 1))
def test_rank0_memref(lib, v):
    r = np.zeros((), np.int64)
    lib.store_scalar(r, v)
    assert int(r) == v


@SETTINGS
@given(x=arrays(np.float64, st.integers(0, 30), elements=st.floats(-10, 10)))
def test_if_without_else(lib, x):
    expected = np.maximum(x, 0)
    lib.relu_in_place(x)
    np.testing.assert_array_equal(x, expected)


@SETTINGS
@given(n=st.integers(0, 5000))
def test_alloc_and_dealloc(lib, n):
    assert lib.triangle(n) == n * (n - 1) // 2
