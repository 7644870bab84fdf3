"""Builders shared by the Scorch tests: a kernel's module text for given formats, tensors."""

import numpy as np

from treadle.dialects.sparse import named_encoding
from treadle.pipeline import parse
from treadle.tensors import from_coordinates

KERNELS = {
    # name: (statement, operands [(name, shape key)], output shape key)
    "spmv": ("y(i) = A(i, j) * x(j)", [("A", "mn", "S"), ("x", "n", "D")], "m"),
    "spmm": ("C(i, k) = A(i, j) * B(j, k)", [("A", "mn", "S"), ("B", "nk", "D")], "mk"),
    "sddmm": ("C(i, j) = M(i, j) * D(i, k) * E(k, j)", [("M", "mn", "S"), ("D", "mk", "D"), ("E", "kn", "D")], "mn"),
    "spgemm": ("C(i, j) = A(i, k) * B(k, j)", [("A", "mk", "S"), ("B", "kn", "S")], "mn"),
    "add": ("C(i, j) = A(i, j) + B(i, j)", [("A", "mn", "S"), ("B", "mn", "S")], "mn"),
}


def alias(fmt: str) -> str:
    return "#" + fmt.replace(":", "_").replace("x", "_")


def tensor_type(fmt: str, shape: tuple[int, ...]) -> str:
    dims = "x".join(str(s) for s in shape)
    enc = "" if fmt == "dense" else f", {alias(fmt)}"
    return f"tensor<{dims}{'x' if dims else ''}f64{enc}>"


def kernel_module(kernel: str, sizes: dict[str, int], formats: dict[str, str], out_fmt: str, schedule: str = ""):
    stmt, operands, out_key = KERNELS[kernel]
    shapes = {name: tuple(sizes[c] for c in key) for name, key, _ in operands}
    out_shape = tuple(sizes[c] for c in out_key)
    used = {f for f in [*formats.values(), out_fmt] if f != "dense"}
    head = "\n".join(f"{alias(f)} = {named_encoding(f, 1 if f == 'compressed' else 2)}" for f in sorted(used))
    names = [n for n, _, _ in operands]
    types = [tensor_type(formats[n], shapes[n]) for n in names]
    out_t = tensor_type(out_fmt, out_shape)
    params = ", ".join(f"%{n}: {t}" for n, t in zip(names, types))
    binds = ", ".join(f"{n} = %{n}" for n in names)
    sched = f" schedule {schedule}" if schedule else ""
    text = f"""{head}
func.func @f({params}) -> {out_t} {{
  %r = sparse.assign {stmt} where {binds} : {', '.join(types)} -> {out_t}{sched}
  func.return %r : {out_t}
}}
"""
    return parse(text), shapes


def make_tensor(array: np.ndarray, fmt: str):
    enc = None if fmt == "dense" else named_encoding(fmt, array.ndim)
    idx = np.nonzero(array)
    return from_coordinates(array.shape, np.array(idx, dtype=np.int64).reshape(array.ndim, -1), array[idx], enc)


def random_array(rng: np.random.Generator, shape, density: float) -> np.ndarray:
    a = rng.standard_normal(shape)
    a[rng.random(shape) >= density] = 0.0
    return a
