"""
Scorch benchmark: treadle's compiled sparse kernels and models against torch.sparse (CSR, COO),
scipy.sparse and torch dense, in one process, with the same thread count on every side.

    OMP_WAIT_POLICY=passive python -m treadle.benchmarks.sparse_cpu [--quick] [--threads N] [--json PATH]

Each row prints `case | ours | peers | ratios` (milliseconds, medians over KERNEL_ROUNDS rounds in
which the sides take turns, each side making >= 2 timed calls a round after an untimed one, more for
a short call, up to 40, to fill 20 ms). scipy.sparse is single-threaded by design; its column is what users get from it.
Compile times (IR → loaded kernel, with and without gcc, and cached reuse) are measured too.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import math
import os
import sys
import time
import warnings


def _setup_threads(threads: int) -> None:
    os.environ.setdefault("OMP_NUM_THREADS", str(threads))
    os.environ.setdefault("OMP_WAIT_POLICY", "passive")  # see docs/scorch.md "Why passive"


_UNSUPPORTED = (RuntimeError, NotImplementedError, ValueError, TypeError, MemoryError)


ROUND_SECONDS = 0.02
"""Each side times at least this long per round (up to ROUND_CALLS calls): a median of nine calls
of a 2 ms product moved by 25% between two sides making the same torch call."""
ROUND_CALLS = 40
KERNEL_ROUNDS = 5
"""Turns per side of a kernel row. With three, a slow spell of the machine over two of one side's
turns set that side's median: SpMV on uniform-16k read 0.58 ms in one full run, 0.22-0.39 ms in
five runs of the row alone, while its peers read as usual."""


def interleaved_ms(fns: dict, repeats: int, rounds: int = 3) -> dict:
    """Median milliseconds of each callable (None for a missing one or one that raises). The
    sides of a row take turns in `rounds` rounds; in each, a side makes one untimed call (its
    data back in cache, its threads awake) and then ceil(repeats / rounds) timed ones, more for
    a short call (ROUND_SECONDS). Steady state per side, as a plain loop of calls measures,
    while a slow period of this shared 2-core machine falls on every side: timed one side after
    the other, single rows moved by up to 2x between runs; timed call by call, each side paid
    for the other's cache and OpenMP thread wake-ups. The order of the sides rotates between
    rounds, so that what a place in the round costs (following a slow side, say) falls on every
    side: with a fixed order, two sides making the same torch call (a row the dispatcher sent
    to dense) differed by up to 1.6x."""
    live, times, calls = {}, {}, {}
    per = max(1, -(-repeats // rounds))
    for name, fn in fns.items():
        if fn is None:
            continue
        try:
            fn()
            t = time.perf_counter()
            fn()
            first = time.perf_counter() - t
        except _UNSUPPORTED:
            continue
        live[name], times[name] = fn, []
        calls[name] = min(max(per, math.ceil(ROUND_SECONDS / max(first, 1e-6))), max(per, ROUND_CALLS))
    order = list(live.items())
    for r in range(rounds):
        for name, fn in order[r % len(order):] + order[: r % len(order)]:  # each round starts at another side
            fn()
            for _ in range(calls[name]):
                t = time.perf_counter()
                fn()
                times[name].append(time.perf_counter() - t)
    return {name: (1e3 * sorted(times[name])[len(times[name]) // 2] if name in times else None) for name in fns}


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[1])
    ap.add_argument("--quick", action="store_true")
    ap.add_argument("--threads", type=int, default=os.cpu_count() or 1)
    ap.add_argument("--repeats", type=int, default=7)
    ap.add_argument("--json", dest="json_path")
    ap.add_argument("--models-only", action="store_true", help="only the end-to-end model rows (no kernel suite, no compile times)")
    ap.add_argument("--no-dynamo", action="store_true",
                    help="models: treadle.compile(model, dynamo=False), the fx route without torch.compile's wrapper")
    ap.add_argument("--only", action="append", default=[], metavar="TEXT",
                    help="only the kernel rows whose case contains TEXT (repeatable; e.g. 'sddmm', 'rmat-s14'); no model rows or compile times")
    args = ap.parse_args(argv)
    _setup_threads(args.threads)

    import numpy as np
    import scipy.sparse as sp
    import torch

    from treadle.benchmarks.matrices import SUITE_FULL, SUITE_QUICK, load
    from treadle.dialects.sparse import named_encoding
    from treadle.runtime import dispatch, kernels
    from treadle.tensors import LevelStorage, Tensor

    warnings.filterwarnings("ignore")
    torch.set_num_threads(args.threads)
    seed = 0
    print(f"# threads: {args.threads} (torch, treadle OpenMP); scipy.sparse is single-threaded; seed {seed}")
    print(f"# torch {torch.__version__}, OMP_WAIT_POLICY={os.environ.get('OMP_WAIT_POLICY')}")
    rng = np.random.default_rng(seed)
    rows: list[dict] = []
    csr = named_encoding("csr", 2)

    def tt(m: sp.csr_matrix) -> Tensor:
        return Tensor(m.shape, csr, [LevelStorage(None, None), LevelStorage(m.indptr.astype(np.int64), m.indices.astype(np.int64))], np.ascontiguousarray(m.data))

    routes: list[bool] = []  # the dispatcher's picks (use_dense) during a row's timed calls

    def routed(decision) -> bool:
        routes.append(decision.use_dense)
        return decision.use_dense

    def emit(case: str, ours_fn, peer_fns: dict, repeats: int | None = None) -> None:
        if args.only and not any(text in case for text in args.only):
            return
        routes.clear()
        times = interleaved_ms({"ours": ours_fn, **peer_fns}, repeats or args.repeats, KERNEL_ROUNDS)
        ours = times.pop("ours")
        peers = times
        sparse_peers = [v for k, v in peers.items() if k.startswith("torch.sparse") and v]
        best_torch = [v for k, v in peers.items() if k.startswith("torch") and v]
        row = {"case": case, "ours_ms": ours, **{f"{k}_ms": v for k, v in peers.items()}}
        row["route"] = None if not routes else "dense" if all(routes) else "sparse" if not any(routes) else "both"
        row["vs_torch_sparse"] = (min(sparse_peers) / ours) if sparse_peers else None
        row["vs_best_torch"] = (min(best_torch) / ours) if best_torch else None
        row["vs_scipy"] = (peers["scipy"] / ours) if peers.get("scipy") else None
        rows.append(row)
        fmt = lambda v: "-" if v is None else f"{v:.3f}"
        ratio = lambda v: "-" if v is None else f"{v:.2f}x"
        print(
            f"{case:38s} | {ours:9.3f}{'' if not row['route'] else ' (' + row['route'] + ')'} | "
            + " ".join(f"{k}={fmt(v)}" for k, v in peers.items())
            + f" | vs torch.sparse {ratio(row['vs_torch_sparse'])}, vs best torch {ratio(row['vs_best_torch'])}, vs scipy {ratio(row['vs_scipy'])}"
        )

    print("case | ours (ms) | peers (ms) | ratios (peer time / ours; >1 = treadle faster)")
    suite = SUITE_QUICK if args.quick else SUITE_FULL
    dense_limit = 2**26
    for spec in suite if not args.models_only else []:
        a = load(spec, np.float32)
        m, n = a.shape
        at = tt(a)
        ta = torch.sparse_csr_tensor(torch.from_numpy(a.indptr.astype(np.int64)), torch.from_numpy(a.indices.astype(np.int64)), torch.from_numpy(a.data), (m, n))
        tcoo = ta.to_sparse_coo().coalesce()
        td = ta.to_dense() if m * n <= dense_limit else None
        name = f"{spec.name} (nnz {a.nnz})"
        # SpMV
        x = rng.standard_normal(n).astype(np.float32)
        tx = torch.from_numpy(x)
        def ours_spmv():
            if td is not None and routed(dispatch.choose_spmm(at, 1, dense_available=True, run_sparse=lambda: kernels.spmv(at, x),
                                                              run_dense=lambda: torch.mv(td, tx))):
                return torch.mv(td, tx)
            return kernels.spmv(at, x)

        emit(f"spmv {name}", ours_spmv, {
            "torch.sparse.csr": lambda: torch.mv(ta, tx),
            "torch.sparse.coo": lambda: torch.mv(tcoo, tx),
            "torch.dense": (lambda: torch.mv(td, tx)) if td is not None else None,
            "scipy": lambda: a @ x,
        })
        # SpMM
        for k in (32, 128):
            b = rng.standard_normal((n, k)).astype(np.float32)
            tb = torch.from_numpy(b)

            def ours_spmm(b=b, k=k, tb=tb):
                if td is not None and routed(dispatch.choose_spmm(at, k, dense_available=True, run_sparse=lambda: kernels.spmm(at, b),
                                                                  run_dense=lambda: td @ tb)):
                    return td @ tb
                return kernels.spmm(at, b)

            emit(f"spmm N={k} {name}", ours_spmm, {
                "torch.sparse.csr": lambda: torch.sparse.mm(ta, tb),
                "torch.sparse.coo": lambda: torch.sparse.mm(tcoo, tb),
                "torch.dense": (lambda: td @ tb) if td is not None else None,
                "scipy": lambda: a @ b,
            })
        # SDDMM (K = 32), output in A's pattern
        kk = 32
        d = rng.standard_normal((m, kk)).astype(np.float32)
        e = rng.standard_normal((kk, n)).astype(np.float32)
        td_, te_ = torch.from_numpy(d), torch.from_numpy(e)
        ones = Tensor(at.shape, at.encoding, at.levels, np.ones_like(at.values))
        coo = a.tocoo()
        et = np.ascontiguousarray(e.T)
        def ours_sddmm():
            dense_route = lambda: kernels.take_at_pattern(ones, (td_ @ te_).numpy())  # torch's BLAS for D @ E, then the pattern's values
            if routed(dispatch.choose_sddmm(at, kk, run_sparse=lambda: kernels.sddmm(ones, d, e, csr), run_dense=dense_route)):
                return dense_route()
            return kernels.sddmm(ones, d, e, csr)

        emit(f"sddmm K=32 {name}", ours_sddmm, {
            "torch.sparse.csr": lambda: torch.sparse.sampled_addmm(ta, td_, te_, beta=0.0),
            "torch.dense": (lambda: (td_ @ te_) * (td != 0)) if td is not None else None,
            "scipy": lambda: np.einsum("ij,ij->i", d[coo.row], et[coo.col]),
        })
        if m == n and (a.nnz <= 300_000 or args.quick):
            ours_gemm = lambda: kernels_spgemm(at)
            emit(f"spgemm A@A {name}", ours_gemm, {
                "torch.sparse.csr": lambda: ta @ ta,
                "scipy": lambda: a @ a,
            }, repeats=max(3, args.repeats // 2) if not args.quick else args.repeats)
            b2 = a.T.tocsr()
            bt = tt(b2)
            tb2 = torch.sparse_csr_tensor(torch.from_numpy(b2.indptr.astype(np.int64)), torch.from_numpy(b2.indices.astype(np.int64)), torch.from_numpy(b2.data), (m, n))
            emit(f"add A+Aᵀ {name}", lambda: kernels_add(at, bt), {
                "torch.sparse.csr": lambda: ta + tb2,
                "torch.sparse.coo": lambda: tcoo + tb2.to_sparse_coo(),
                "scipy": lambda: a + b2,
            })

    rows += run_models(args, rng) if not args.only else []
    compile_rows = compile_times() if not (args.models_only or args.only) else []
    ratios = [r["vs_torch_sparse"] for r in rows if r.get("vs_torch_sparse") and not r["case"].startswith("model")]
    if ratios:
        print(f"# geomean vs torch.sparse over kernels: {math.exp(sum(map(math.log, ratios)) / len(ratios)):.2f}x")
    sc = [r["vs_scipy"] for r in rows if r.get("vs_scipy") and r["case"].startswith(("spmv", "spmm"))]
    if sc:
        print(f"# geomean vs scipy on SpMV/SpMM: {math.exp(sum(map(math.log, sc)) / len(sc)):.2f}x")
    low = [r["case"] for r in rows if r.get("vs_best_torch") and r["vs_best_torch"] < 0.9]
    print(f"# rows below 0.9x of the best torch side: {low or 'none'}")
    calibrations = {f"width {w}, {engine}": dataclasses.asdict(c) for (w, engine), c in dispatch._CAL.items()}
    for name, c in calibrations.items():  # what the dispatcher decided from, this process
        print(f"# dispatcher calibration ({name}): " + ", ".join(f"{k}={v:.3g}" for k, v in c.items()))
    if args.json_path:
        with open(args.json_path, "w") as f:
            json.dump({"threads": args.threads, "seed": seed, "rows": rows, "compile": compile_rows,
                       "calibration": calibrations}, f, indent=1)
    return 0


def kernels_spgemm(at):
    from treadle.runtime import kernels

    st = kernels.statement("spgemm", {"A": (at.shape, at.encoding), "B": (at.shape, at.encoding)}, at.shape, at.encoding, at.dtype)
    return st({"A": at, "B": at})


def kernels_add(at, bt):
    from treadle.runtime import kernels

    st = kernels.statement("add", {"A": (at.shape, at.encoding), "B": (bt.shape, bt.encoding)}, at.shape, at.encoding, at.dtype)
    return st({"A": at, "B": bt})


def run_models(args, rng) -> list[dict]:
    import numpy as np
    import torch

    from treadle.benchmarks.models import GCN, SAGE, BlockSparseAttention, PrunedMLP, bigbird_mask
    from treadle.benchmarks.matrices import MatrixSpec, load
    from treadle.frontends.torch import compile as treadle_compile

    out = []
    scale = 10 if args.quick else 14
    g = load(MatrixSpec(f"rmat-s{scale}-model", "rmat", dict(scale=scale, edge_factor=8, seed=31)), np.float32)
    g = g + __import__("scipy.sparse").sparse.eye(g.shape[0], dtype=np.float32, format="csr")
    deg = np.asarray(g.sum(1)).ravel()
    g = __import__("scipy.sparse").sparse.diags(1.0 / deg).astype(np.float32) @ g
    g = g.tocsr()
    adj = torch.sparse_csr_tensor(torch.from_numpy(g.indptr.astype(np.int64)), torch.from_numpy(g.indices.astype(np.int64)), torch.from_numpy(g.data.astype(np.float32)), g.shape)
    nodes = g.shape[0]
    torch.manual_seed(0)
    seq = 512 if args.quick else 2048
    cases = [
        ("model gcn", GCN(adj, 64, 64, 16), torch.randn(nodes, 64)),
        ("model graphsage", SAGE(adj, 64, 64), torch.randn(nodes, 64)),
        ("model bigbird-attention", BlockSparseAttention(bigbird_mask(seq // 32, 32, 5), 64), torch.randn(seq, 64)),
        ("model pruned-mlp-90%", PrunedMLP(1024 if not args.quick else 256, 4096 if not args.quick else 1024, 1024 if not args.quick else 256, 0.9, 6), torch.randn(64, 1024 if not args.quick else 256)),
    ]
    for case, model, x in cases:
        with torch.no_grad():
            compiled = treadle_compile(model, dynamo=not args.no_dynamo)
            # Models are the noisiest rows here (each side allocates several MB per call, and
            # the same call moved by +-30% between rounds): more calls and rounds than a kernel row.
            times = interleaved_ms({"ours": lambda: compiled(x), "eager": lambda: model(x)}, max(args.repeats, 36), rounds=6)
            ours, eager = times["ours"], times["eager"]
            row = {"case": case, "ours_ms": ours, "torch.sparse_ms": eager, "vs_torch_sparse": eager / ours, "vs_best_torch": eager / ours, "vs_scipy": None}
        out.append(row)
        print(f"{case:38s} | {ours:9.3f} | torch.sparse(eager)={eager:.3f} | vs torch.sparse {eager / ours:.2f}x")
    return out


def compile_times() -> list[dict]:
    """IR → loaded kernel: lowering (text, parse), emit + load excluding gcc, gcc; cached reuse."""
    import numpy as np

    from treadle.dialects.sparse import named_encoding
    from treadle.runtime import execute as ex
    from treadle.runtime import kernels

    csr = named_encoding("csr", 2)
    out = []
    print("# compile time per kernel (ms): lower | emit+load (excl. gcc) | gcc | disk-cached reuse | in-memory reuse")
    for kernel, ops, oshape, oenc in [
        ("spmv", {"A": ((1000, 999), csr), "x": ((999,), None)}, (1000,), None),
        ("spmm", {"A": ((1000, 999), csr), "B": ((999, 64), None)}, (1000, 64), None),
        ("sddmm", {"A": ((1000, 999), csr), "D": ((1000, 32), None), "ET": ((999, 32), None)}, (1000, 999), csr),
        ("spgemm", {"A": ((1000, 999), csr), "B": ((999, 1000), csr)}, (1000, 1000), csr),
        ("add", {"A": ((1000, 999), csr), "B": ((1000, 999), csr)}, (1000, 999), csr),
    ]:
        # Fresh sizes (the row count is a loop bound in the C text): a real gcc run. Three of
        # them, so that the new process reuses three statements (the median is reported: one
        # reuse is a single sample of a few ms on a machine whose slow moments last longer).
        shapes = []
        for _ in range(REUSE_SAMPLES):
            fresh = {999: int.from_bytes(os.urandom(3), "little") % 50000 + 1000, 1000: int.from_bytes(os.urandom(3), "little") % 50000 + 1000}
            shapes.append(({k: (tuple(fresh.get(s, s) for s in shp), e) for k, (shp, e) in ops.items()}, tuple(fresh.get(s, s) for s in oshape)))
        ops2, oshape2 = shapes[0]
        st = kernels.statement(kernel, ops2, oshape2, oenc, np.float32)
        cold = (st.lower_seconds, st.emit_load_seconds, st.compile_seconds)
        for more_ops, more_oshape in shapes[1:]:
            kernels.statement(kernel, more_ops, more_oshape, oenc, np.float32)
        disk, cached, first = _new_process_reuse(kernel, shapes, oenc)
        t = time.perf_counter()
        kernels.statement(kernel, ops2, oshape2, oenc, np.float32)
        mem = time.perf_counter() - t
        row = {"kernel": kernel, "lower_ms": 1e3 * cold[0], "emit_load_ms": 1e3 * cold[1], "gcc_ms": 1e3 * cold[2], "disk_cached_ms": 1e3 * disk, "memory_cached_ms": 1e3 * mem, "cached": cached,
               "first_kernel_in_new_process_ms": 1e3 * first}
        out.append(row)
        print(f"{kernel:8s} | {row['lower_ms']:7.1f} | {row['emit_load_ms']:7.1f} | {row['gcc_ms']:7.1f} | {row['disk_cached_ms']:7.1f} | {row['memory_cached_ms']:.3f}")
    return out


REUSE_SAMPLES = 3
_REUSE = """
import json, sys, time
import numpy as np
from treadle.dialects.sparse import named_encoding
from treadle.runtime import kernels
kernel, shapes, oenc = json.loads(sys.argv[1])
enc = lambda e: None if e is None else named_encoding(e, 2)
t = time.perf_counter()  # the process's first kernel also pays the runtime's one-time imports
kernels.statement("spmv", {"A": ((8, 8), enc("csr")), "x": ((8,), None)}, (8,), None, np.float32)
first = time.perf_counter() - t
times, cached = [], True
for ops, oshape in shapes:
    ops = {k: (tuple(s), enc(e)) for k, (s, e) in ops.items()}
    t = time.perf_counter()
    st = kernels.statement(kernel, ops, tuple(oshape), enc(oenc), np.float32)
    times.append(time.perf_counter() - t)
    cached = cached and st.cached
print(json.dumps([sorted(times)[len(times) // 2], cached, first]))
"""


def _new_process_reuse(kernel, shapes, oenc) -> tuple[float, bool, float]:
    """Seconds a new process takes to get a kernel this process built (the statement built,
    the on-disk index read, the library dlopen'ed), the median over the given shapes, after its
    first kernel paid the runtime's one-time imports; whether gcc was skipped for all; and what
    that first kernel took."""
    import subprocess

    def name(e):  # the compile-time table uses CSR and dense operands only
        return None if e is None else "csr"

    spec = json.dumps([kernel, [[{k: [list(s), name(e)] for k, (s, e) in ops.items()}, list(oshape)] for ops, oshape in shapes], name(oenc)])
    out = subprocess.run([sys.executable, "-c", _REUSE, spec], capture_output=True, text=True, check=True)
    seconds, cached, first = json.loads(out.stdout.strip().splitlines()[-1])
    return seconds, cached, first


if __name__ == "__main__":
    sys.exit(main())
