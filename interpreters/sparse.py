"""
Reference semantics of the `sparse` dialect: every statement evaluated densely with numpy.

This is the oracle of every later route (compiled C, stream simulation, DAE simulation): it
is deliberately the simplest correct evaluation, with no format-specific code. Tensors flow
through the interpreter as dense numpy arrays; storage formats only matter to other routes.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from xdsl.dialects.builtin import ModuleOp, TensorType
from xdsl.interpreter import Interpreter, InterpreterFunctions, impl, register_impls
from xdsl.interpreters.func import FuncFunctions

from treadle.dialects.sparse import (
    AccessAttr,
    AssignOp,
    BinaryAttr,
    ConstantAttr,
    ConvertOp,
    ExprAttr,
    ReduceAttr,
    SoftmaxOp,
    UnaryAttr,
    explicit_reductions,
)

_UNARY = {
    "relu": lambda a: np.maximum(a, 0),
    "exp": np.exp,
    "neg": np.negative,
    "abs": np.abs,
    "sqrt": np.sqrt,
}
_BINARY = {"add": np.add, "sub": np.subtract, "mul": np.multiply, "div": np.divide}

# A partial result: an array whose axes are the listed index variables.
_Indexed = tuple[np.ndarray, tuple[str, ...]]


def evaluate_assign(op: AssignOp, arrays: dict[str, np.ndarray]) -> np.ndarray:
    """The dense result of one statement, given each bound tensor name's dense array."""
    result_type = op.result.type
    assert isinstance(result_type, TensorType)
    dtype = _numpy_dtype(result_type)
    expr = explicit_reductions(op.expr, op.lhs_indices)
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        array, indices = _evaluate(expr, {n: np.asarray(a, dtype=dtype) for n, a in arrays.items()})
    array = _align(array, indices, op.lhs_indices)
    return np.array(array, dtype=dtype, order="C")  # keeps 0-d results 0-d


def evaluate_softmax(array: np.ndarray, axis: int, present: np.ndarray | None = None) -> np.ndarray:
    """Softmax along `axis` over the entries where `present` (default: the nonzeros); the
    others stay zero (they count as -inf)."""
    nonzero = array != 0 if present is None else present
    top = np.where(nonzero, array, -np.inf).max(axis=axis, keepdims=True, initial=-np.inf)
    with np.errstate(invalid="ignore", over="ignore"):
        e = np.where(nonzero, np.exp(array - np.where(np.isfinite(top), top, 0)), 0)
        total = e.sum(axis=axis, keepdims=True)
        return np.divide(e, total, out=np.zeros_like(e), where=total != 0).astype(array.dtype)


def _evaluate(expr: ExprAttr, arrays: dict[str, np.ndarray]) -> _Indexed:
    match expr:
        case AccessAttr():
            return arrays[expr.tensor.data], expr.index_names
        case ConstantAttr():
            return np.asarray(expr.number), ()
        case UnaryAttr():
            array, indices = _evaluate(expr.operand, arrays)
            return _UNARY[expr.function.data](array), indices
        case BinaryAttr():
            lhs, lhs_idx = _evaluate(expr.lhs, arrays)
            rhs, rhs_idx = _evaluate(expr.rhs, arrays)
            indices = tuple(dict.fromkeys(lhs_idx + rhs_idx))
            return (
                _BINARY[expr.operator.data](
                    _broadcast(lhs, lhs_idx, indices), _broadcast(rhs, rhs_idx, indices)
                ),
                indices,
            )
        case ReduceAttr():
            return _reduce(expr, arrays)
    raise TypeError(f"unknown expression node {expr}")


def _reduce(expr: ReduceAttr, arrays: dict[str, np.ndarray]) -> _Indexed:
    """A sum over a product is one einsum (no i*j*k intermediate); anything else sums axes."""
    free = expr.free_indices()
    factors = _product_factors(expr.body)
    if factors is not None:
        evaluated = [_evaluate(f, arrays) for f in factors]
        letters = {name: chr(ord("a") + k) for k, name in enumerate(expr.body.free_indices())}
        spec = ",".join("".join(letters[i] for i in idx) for _, idx in evaluated)
        spec += "->" + "".join(letters[i] for i in free)
        return np.einsum(spec, *(a for a, _ in evaluated)), free
    body, indices = _evaluate(expr.body, arrays)
    axes = tuple(k for k, i in enumerate(indices) if i in expr.index_names)
    return body.sum(axis=axes), tuple(i for i in indices if i not in expr.index_names)


def _product_factors(expr: ExprAttr) -> list[ExprAttr] | None:
    if isinstance(expr, BinaryAttr) and expr.operator.data == "mul":
        lhs, rhs = _product_factors(expr.lhs), _product_factors(expr.rhs)
        return None if lhs is None or rhs is None else lhs + rhs
    if isinstance(expr, AccessAttr | ConstantAttr):
        return [expr]
    return None


def _broadcast(array: np.ndarray, indices: tuple[str, ...], target: tuple[str, ...]) -> np.ndarray:
    """View `array` (axes `indices`) with the axes of `target`, size-1 where it lacks one."""
    order = [indices.index(i) for i in target if i in indices]
    array = np.transpose(array, order) if order else array
    shape = []
    present = iter(array.shape)
    for index in target:
        shape.append(next(present) if index in indices else 1)
    return array.reshape(shape)


def _align(array: np.ndarray, indices: tuple[str, ...], target: tuple[str, ...]) -> np.ndarray:
    return np.transpose(array, [indices.index(i) for i in target]) if target else array


def _numpy_dtype(tensor_type: TensorType) -> np.dtype:
    name = str(tensor_type.get_element_type())
    table = {"f64": np.float64, "f32": np.float32, "f16": np.float16, "i64": np.int64, "i32": np.int32}
    return np.dtype(table.get(name, np.float64))


def dense(value: Any) -> np.ndarray:
    """A dense array of a Treadle tensor (anything with to_numpy) or an array-like."""
    return value.to_numpy() if hasattr(value, "to_numpy") else np.asarray(value)


def stored_mask(value: Any) -> np.ndarray:
    """Where a Treadle tensor stores an entry (explicit zeros included); everywhere for an array."""
    if not hasattr(value, "coordinates") or value.encoding is None:
        return np.ones(np.shape(dense(value)), dtype=bool)
    coords, _ = value.coordinates()
    mask = np.zeros(value.shape, dtype=bool)
    mask[tuple(coords)] = True
    return mask


@register_impls
class SparseFunctions(InterpreterFunctions):
    """xDSL interpreter implementations: `xdsl`-style reference execution of `sparse` IR."""

    @impl(AssignOp)
    def run_assign(self, interpreter: Interpreter, op: AssignOp, args: tuple[Any, ...]):
        arrays = {name: dense(value) for name, value in zip(op.names, args)}
        for name, array in arrays.items():
            expected = op.operand_named(name).type.get_shape()
            if any(e >= 0 and e != a for e, a in zip(expected, array.shape)) or len(expected) != array.ndim:
                interpreter.raise_error(
                    f"tensor '{name}' has shape {array.shape}, the IR expects {tuple(expected)}"
                )
        return (evaluate_assign(op, arrays),)

    @impl(ConvertOp)
    def run_convert(self, interpreter: Interpreter, op: ConvertOp, args: tuple[Any, ...]):
        return (dense(args[0]),)

    @impl(SoftmaxOp)
    def run_softmax(self, interpreter: Interpreter, op: SoftmaxOp, args: tuple[Any, ...]):
        array = np.asarray(dense(args[0]), dtype=_numpy_dtype(op.result.type))
        return (evaluate_softmax(array, op.axis, stored_mask(args[0]) if op.over_stored else None),)


def run_reference(module: ModuleOp, function: str, args: tuple[Any, ...]) -> tuple[np.ndarray, ...]:
    """Call `function` of `module` on the reference interpreter; results are dense arrays."""
    interpreter = Interpreter(module)
    interpreter.register_implementations(FuncFunctions())
    interpreter.register_implementations(SparseFunctions())
    return tuple(interpreter.call_op(function, args))
