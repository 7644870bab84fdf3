"""`treadle demo`: build a sparse program from Python, print its IR, run it, check it with numpy."""

from __future__ import annotations

import argparse

HELP = "Build a sparse program (SpMV, then SDDMM) from Python, print its IR, run it, check it against numpy"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--size", type=int, default=64, help="matrix dimension (default 64)")
    parser.add_argument("--density", type=float, default=0.05, help="nonzero fraction (default 0.05)")
    parser.add_argument("--seed", type=int, default=0, help="random seed (default 0)")


def run(args: argparse.Namespace) -> int:
    import numpy as np
    import scipy.sparse as sp

    import treadle
    from treadle.api import build_program

    print(f"seed = {args.seed}")
    rng = np.random.default_rng(args.seed)
    n = args.size
    A = treadle.tensor(sp.random(n, n, density=args.density, format="csr", random_state=rng), format="csr")
    x = rng.standard_normal(n)
    D, E = rng.standard_normal((n, 16)), rng.standard_normal((16, n))
    program = "y(i) = A(i,j) * x(j); S(i,j) = A(i,j) * (D(i,k) * E(k,j))"
    inputs = {"A": A, "x": treadle.tensor(x), "D": treadle.tensor(D), "E": treadle.tensor(E)}

    module = build_program(program, inputs, output_format="csr")
    print(f"# {program}  with A: {A}\n")
    print(module)
    S = treadle.run(module, *inputs.values())[0]

    dense_A = A.to_numpy()
    expected = dense_A * (D @ E)
    y = treadle.einsum("y(i) = A(i,j) * x(j)", A=A, x=x).to_numpy()
    ok_y = np.allclose(y, dense_A @ x)
    ok_s = np.allclose(S.to_numpy(), expected)
    print(f"\nSpMV  y = A x       : {'matches' if ok_y else 'DIFFERS FROM'} numpy (max |err| {np.abs(y - dense_A @ x).max():.2e})")
    print(f"SDDMM S = A * (D E) : {'matches' if ok_s else 'DIFFERS FROM'} numpy, result {S}")
    return 0 if ok_y and ok_s else 1
