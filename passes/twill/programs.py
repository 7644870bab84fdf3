"""Builders of `warp` loops for the programs Twill schedules; each returns .mlir text.

The text is the interface (it parses into a `warp.loop`), so the same builders write the files
under `examples/twill/`. Work amounts come from tile shapes: a GEMM of m x n x k is 2mnk flop on
`tc`; a softmax pass over an m x n tile is m*n exponentials on `mufu` or m*n lane-ops on `fma`;
a load is its bytes on `tma`. Tiles are split into `subtiles` row blocks sized to the tensor-core
instruction (m64 wgmma on Hopper, 128-row UMMA on Blackwell), as Twill does (§6.2).
"""

from __future__ import annotations

from collections.abc import Callable

from xdsl.context import Context
from xdsl.dialects.builtin import Builtin, ModuleOp
from xdsl.parser import Parser

from treadle.dialects.warp import LoopOp, Warp
from treadle.errors import Error


class ProgramError(Error):
    """Unknown built-in program or bad builder parameters."""


def _loop(name: str, lines: list[str], attrs: dict[str, int] | None = None) -> str:
    head = f"warp.loop @{name}"
    if attrs:
        head += " attributes {" + ", ".join(f"{k} = {v} : i64" for k, v in attrs.items()) + "}"
    return head + " {\n" + "".join(f"  {ln}\n" for ln in lines) + "}\n"


def toy() -> str:
    """Twill Fig. 1: S = GEMM(Q, K_j); P = EXP(S); O += GEMM(P, V_j); one TC, one EXP unit."""
    return _loop("toy", [
        "%s = warp.task @S on tc work 1 -> reg 0",
        "%p = warp.task @P on exp work 1 (%s) -> reg 0",
        "%o = warp.task @O on tc work 1 (%p, %o[1]) -> reg 0",
    ])


def gemm(block_m: int = 128, block_n: int = 256, block_k: int = 64, subtiles: int = 2,
         elem: int = 2, accumulator: str = "reg") -> str:
    """A GEMM main loop: stream A and B k-slices, accumulate into fp32 register tiles.

    `accumulator` is `reg` (Hopper wgmma) or `tmem` (Blackwell UMMA). It is split into `subtiles` row blocks (one m64 wgmma block each), since a whole
    128 x 256 fp32 tile (256 registers per thread) does not fit one warp group.
    """
    _check_tiles(block_k, block_m, block_n, subtiles)
    rows = block_m // subtiles
    a, b = block_m * block_k * elem, block_n * block_k * elem
    lines = [f"%a = warp.task @load_a on tma work {a} -> smem {a}",
             f"%b = warp.task @load_b on tma work {b} -> smem {b}"]
    lines += [f"%c{s} = warp.task @mma{s} on tc work {2 * rows * block_n * block_k} "
              f"(%a, %b, %c{s}[1]) -> {accumulator} {rows * block_n * 4}" for s in range(subtiles)]
    return _loop("gemm", lines)


def fa_forward_hopper(head_dim: int = 128, block_m: int = 128, block_n: int = 128,
                      subtiles: int = 2, causal: bool = False, elem: int = 2) -> str:
    """Flash Attention forward, one KV block per iteration, for Hopper (P stays in registers).

    Per sub-tile s of `rows = block_m / subtiles` query rows:
    S_s = Q_s K^T (tc); m_s = rowmax(S_s, m_s[1]) (fma); P_s = exp2(S_s - m_s) (mufu);
    l_s = l_s[1] * alpha + rowsum(P_s) (fma); O_s[1] *= alpha (fma, in place); O_s += P_s V (tc).
    The causal variant adds the mask pass on S_s (fma) of the diagonal blocks.
    """
    _check_tiles(head_dim, block_m, block_n, subtiles)
    rows, d, bn = block_m // subtiles, head_dim, block_n
    kv = bn * d * elem
    lines = [f"%k = warp.task @load_k on tma work {kv} -> smem {kv}",
             f"%v = warp.task @load_v on tma work {kv} -> smem {kv}"]
    for s in range(subtiles):
        src = f"%s{s}"
        lines.append(f"%s{s} = warp.task @qk{s} on tc work {2 * rows * bn * d} (%k) -> reg {rows * bn * 4}")
        if causal:
            lines.append(f"%x{s} = warp.task @mask{s} on fma work {rows * bn} (%s{s}) -> reg 0 alias 0")
            src = f"%x{s}"
        lines += [
            f"%m{s} = warp.task @max{s} on fma work {rows * bn} ({src}, %m{s}[1]) -> reg {rows * 4}",
            f"%p{s} = warp.task @exp{s} on mufu work {rows * bn} ({src}, %m{s}) -> reg {rows * bn * elem}",
            f"%l{s} = warp.task @sum{s} on fma work {rows * bn} (%p{s}, %l{s}[1], %m{s}) -> reg {rows * 4}",
            f"%c{s} = warp.task @rescale{s} on fma work {rows * d} (%o{s}[1], %m{s}) -> reg 0 alias 0",
            f"%o{s} = warp.task @pv{s} on tc work {2 * rows * bn * d} (%p{s}, %v, %c{s}) -> reg {rows * d * 4}",
        ]
    return _loop("fa_forward_causal" if causal else "fa_forward", lines,
                 {"smem_resident": block_m * d * elem})


def fa_forward_blackwell(head_dim: int = 128, block_m: int = 256, block_n: int = 128,
                         subtiles: int = 2, causal: bool = False, elem: int = 2,
                         split_p: int = 0) -> str:
    """Flash Attention forward for Blackwell: S, P and O in tensor memory (FA4's data layout).

    Per sub-tile s (128 query rows, one UMMA M): S_s = Q_s K^T into TMEM (tc); the softmax loads
    S_s to registers (tmem), computes m_s (fma), P_s = exp2 (mufu), l_s (fma) and stores P_s over
    S_s in TMEM (tmem, aliasing S_s); the correction rescales O_s in TMEM (tmem load + store,
    in place); O_s += P_s V (tc, P read from TMEM).

    `split_p` > 0 is FA4's split_P_arrive (flash_fwd_sm100.py: `n_block_size // 4 * 3`, a
    multiple of 32, i.e. 96 of 128): the softmax exponentiates and stores P per 32-column
    fragment (apply_exp2_convert, one tcgen05.st piece per fragment) and signals the MMA warp
    after the first `split_p` columns, which issues P V over those K columns and waits on a
    second mbarrier for the rest. So exp, the P store and P V each come in two tasks (`exp{s}`,
    `exp{s}_tail`, ...); the tail of P V accumulates into the head's result in place.
    """
    _check_tiles(head_dim, block_m, block_n, subtiles)
    rows, d, bn = block_m // subtiles, head_dim, block_n
    if not 0 <= split_p < bn:
        raise ProgramError(f"bad split_p={split_p}: must be 0 (no split) or below block_n={bn}")
    kv = bn * d * elem
    lines = [f"%k = warp.task @load_k on tma work {kv} -> smem {kv}",
             f"%v = warp.task @load_v on tma work {kv} -> smem {kv}"]
    for s in range(subtiles):
        src = f"%r{s}"
        lines.append(f"%s{s} = warp.task @qk{s} on tc work {2 * rows * bn * d} (%k) -> tmem {rows * bn * 4}")
        lines.append(f"%r{s} = warp.task @ld_s{s} on tmem work {rows * bn * 4} (%s{s}) -> reg {rows * bn * 4}")
        if causal:
            lines.append(f"%x{s} = warp.task @mask{s} on fma work {rows * bn} (%r{s}) -> reg 0 alias 0")
            src = f"%x{s}"
        lines.append(f"%m{s} = warp.task @max{s} on fma work {rows * bn} ({src}, %m{s}[1]) -> reg {rows * 4}")
        if not split_p:
            lines += [
                f"%p{s} = warp.task @exp{s} on mufu work {rows * bn} ({src}, %m{s}) -> reg {rows * bn * elem}",
                f"%l{s} = warp.task @sum{s} on fma work {rows * bn} (%p{s}, %l{s}[1], %m{s}) -> reg {rows * 4}",
                f"%q{s} = warp.task @st_p{s} on tmem work {rows * bn * elem} (%p{s}, %s{s}) -> tmem 0 alias 1",
                f"%c{s} = warp.task @correct{s} on tmem work {2 * rows * d * 4} (%o{s}[1], %m{s}) -> tmem 0 alias 0",
                f"%o{s} = warp.task @pv{s} on tc work {2 * rows * bn * d} (%q{s}, %v, %c{s}) -> tmem {rows * d * 4}",
            ]
            continue
        head, tail = split_p, bn - split_p
        lines += [
            f"%c{s} = warp.task @correct{s} on tmem work {2 * rows * d * 4} (%o{s}[1], %m{s}) -> tmem 0 alias 0",
            f"%p{s} = warp.task @exp{s} on mufu work {rows * head} ({src}, %m{s}) -> reg {rows * head * elem}",
            f"%pt{s} = warp.task @exp{s}_tail on mufu work {rows * tail} ({src}, %m{s}) -> reg {rows * tail * elem}",
            f"%q{s} = warp.task @st_p{s} on tmem work {rows * head * elem} (%p{s}, %s{s}) -> tmem 0 alias 1",
            f"%qt{s} = warp.task @st_p{s}_tail on tmem work {rows * tail * elem} (%pt{s}, %s{s}) -> tmem 0 alias 1",
            f"%l{s} = warp.task @sum{s} on fma work {rows * bn} (%p{s}, %pt{s}, %l{s}[1], %m{s}) -> reg {rows * 4}",
            f"%oh{s} = warp.task @pv{s} on tc work {2 * rows * head * d} (%q{s}, %v, %c{s}) -> tmem {rows * d * 4}",
            f"%o{s} = warp.task @pv{s}_tail on tc work {2 * rows * tail * d} (%oh{s}, %qt{s}, %v) -> tmem 0 alias 0",
        ]
    return _loop("fa_forward_causal" if causal else "fa_forward", lines,
                 {"smem_resident": block_m * d * elem})


def fa_backward_hopper(head_dim: int = 128, block_q: int = 64, block_kv: int = 128,
                       subtiles: int = 2, elem: int = 2) -> str:
    """Flash Attention backward for Hopper, FA3's loop order: K, V of a KV block stay resident;
    each iteration streams one Q block with dO, LSE and delta, and accumulates dK, dV.

    Per KV sub-tile s (`rows = block_kv / subtiles` key rows, one consumer warp group in FA3):
    S_s = K_s Q^T (tc); P_s = exp2(S_s - LSE) over S_s (mufu, in place); dV_s += P_s^T dO (tc);
    dP_s = V_s dO^T (tc); dS_s = P_s * (dP_s - delta) over dP_s (fma, in place);
    dK_s += dS_s^T Q (tc); dQ += dS_s K_s (tc) into shared memory, which the producer adds to
    global memory (a TMA reduce, like FA3's dQ accumulation).
    """
    _check_tiles(head_dim, block_kv, block_q, subtiles)
    rows, d, bq = block_kv // subtiles, head_dim, block_q
    q = bq * d * elem
    lines = [f"%q = warp.task @load_q on tma work {q} -> smem {q}",
             f"%do = warp.task @load_do on tma work {q} -> smem {q}",
             f"%st = warp.task @load_stats on tma work {2 * bq * 4} -> smem {2 * bq * 4}"]
    for s in range(subtiles):
        lines += [
            f"%s{s} = warp.task @qk{s} on tc work {2 * rows * bq * d} (%q) -> reg {rows * bq * 4}",
            f"%p{s} = warp.task @exp{s} on mufu work {rows * bq} (%s{s}, %st) -> reg 0 alias 0",
            f"%dv{s} = warp.task @dv{s} on tc work {2 * rows * bq * d} (%p{s}, %do, %dv{s}[1]) "
            f"-> reg {rows * d * 4}",
            f"%dp{s} = warp.task @dp{s} on tc work {2 * rows * bq * d} (%do) -> reg {rows * bq * 4}",
            f"%ds{s} = warp.task @ds{s} on fma work {2 * rows * bq} (%dp{s}, %p{s}, %st) "
            f"-> reg 0 alias 0",
            f"%dk{s} = warp.task @dk{s} on tc work {2 * rows * bq * d} (%ds{s}, %q, %dk{s}[1]) "
            f"-> reg {rows * d * 4}",
            f"%dq{s} = warp.task @dq{s} on tc work {2 * rows * bq * d} (%ds{s}) -> smem {bq * d * 4}",
        ]
    lines.append(f"%dqs = warp.task @store_dq on tma work {bq * d * 4} "
                 f"({', '.join(f'%dq{s}' for s in range(subtiles))}) -> smem 0")
    return _loop("fa_backward", lines, {"smem_resident": 2 * block_kv * d * elem})


def _check_tiles(head_dim: int, block_m: int, block_n: int, subtiles: int) -> None:
    if min(head_dim, block_m, block_n, subtiles) <= 0 or block_m % subtiles:
        raise ProgramError(
            f"bad tiles: head_dim={head_dim} block_m={block_m} block_n={block_n} "
            f"subtiles={subtiles} (block_m must split evenly into sub-tiles)"
        )


def fa_forward(arch: str, head_dim: int = 128, causal: bool = False, **kw) -> str:
    """The FA forward loop in the data layout of `arch` (TMEM on Blackwell, registers on Hopper)."""
    if arch == "b200":
        return fa_forward_blackwell(head_dim, causal=causal, **kw)
    return fa_forward_hopper(head_dim, causal=causal, **kw)


PROGRAMS: dict[str, Callable[..., str]] = {
    "toy": lambda arch, head_dim=128, **kw: toy(),
    "gemm": lambda arch, head_dim=128, **kw: gemm(accumulator="tmem" if arch == "b200" else "reg",
                                                 **kw),
    "fa-forward": lambda arch, head_dim=128, **kw: fa_forward(arch, head_dim, **kw),
    "fa-forward-causal": lambda arch, head_dim=128, **kw: fa_forward(arch, head_dim, causal=True, **kw),
    "fa-backward": lambda arch, head_dim=128, **kw: fa_backward_hopper(head_dim, **kw),
}


def context() -> Context:
    ctx = Context()
    ctx.load_dialect(Builtin)
    ctx.load_dialect(Warp)
    return ctx


def parse(text: str, name: str = "<program>") -> ModuleOp:
    module = Parser(context(), text, name).parse_module()
    module.verify()
    return module


def build(program: str, arch: str, head_dim: int = 128, **kw) -> ModuleOp:
    if program not in PROGRAMS:
        raise ProgramError(f"unknown program '{program}' (built-in: {', '.join(PROGRAMS)})")
    return parse(PROGRAMS[program](arch, head_dim, **kw), program)


def the_loop(module: ModuleOp) -> LoopOp:
    loops = [op for op in module.walk() if isinstance(op, LoopOp)]
    if len(loops) != 1:
        raise ProgramError(f"expected exactly one warp.loop, found {len(loops)}")
    return loops[0]
