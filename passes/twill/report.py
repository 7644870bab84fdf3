"""What people look at: a textual schedule table and a Gantt chart of the steady state.

The chart has one row per role (what its warps issue) and one row per unit (what occupies it),
over three initiation intervals of the steady state, with each op labelled by its iteration.
"""

from __future__ import annotations

from treadle.passes.twill.checker import buffers
from treadle.passes.twill.problem import Problem
from treadle.passes.twill.solver import Schedule

UNIT_COLORS = {"tma": "#4caf50", "tc": "#e91e63", "mufu": "#2196f3", "exp": "#2196f3",
               "fma": "#ff9800", "tmem": "#9c27b0"}


def table(p: Problem, sched: Schedule, roles: list[str]) -> str:
    """One line per op: role, unit, normalized and cycle start/duration, stage, buffers."""
    copies = buffers(p, sched.start, sched.ii)
    rows = [f"{'op':<12} {'role':<12} {'unit':<5} {'start':>5} {'dur':>4} {'mod II':>6} "
            f"{'stage':>5} {'buffers':>7} {'cycles':>7}"]
    order = sorted(range(len(p.nodes)), key=lambda k: (sched.role[k], sched.start[k] % sched.ii))
    for k in order:
        nd = p.nodes[k]
        rows.append(
            f"{nd.name:<12} {roles[sched.role[k]]:<12} {nd.unit:<5} {sched.start[k]:>5} "
            f"{p.n(nd.cycles):>4} {sched.start[k] % sched.ii:>6} {sched.start[k] // sched.ii:>5} "
            f"{copies.get(p.storage_root(k), 1):>7} {nd.cycles:>7}"
        )
    return "\n".join(rows)


def gantt(p: Problem, sched: Schedule, roles: list[str], path: str, title: str = "",
          ii_cycles: int | None = None) -> None:
    """Write a PNG/SVG Gantt chart (matplotlib, Agg backend) of the steady state."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    ii = sched.ii
    units = sorted({nd.unit for nd in p.nodes})
    lanes = [f"role {r}: {name}" for r, name in enumerate(roles)] + [f"unit {u}" for u in units]
    fig, ax = plt.subplots(figsize=(12, 0.6 * len(lanes) + 1.5))
    # Steady-state window [W0, W0 + 3 II): iterations that touch it are drawn.
    w0 = (max(sched.start) // ii + 1) * ii
    lo_it = -(w0 + 3 * ii) // ii - 1
    for it in range(lo_it, w0 // ii + 4):
        for k, nd in enumerate(p.nodes):
            t = sched.start[k] + it * ii
            dur = p.n(nd.cycles)
            if t + dur <= w0 or t >= w0 + 3 * ii or it < 0:
                continue
            color = UNIT_COLORS.get(nd.unit, "#9e9e9e")
            label = f"{nd.name}({it})" if dur * 12 / (3 * ii) > 0.35 else ""
            role_dur = dur if p.n(nd.busy) else max(1, dur // 8)
            for lane, d, alpha in ((sched.role[k], role_dur, 0.9),
                                   (len(roles) + units.index(nd.unit), dur, 0.6)):
                ax.broken_barh([(t - w0, d)], (lane - 0.4, 0.8), facecolors=color, alpha=alpha,
                               edgecolor="black", linewidth=0.5)
                if label and lane >= len(roles):
                    ax.text(t - w0 + d / 2, lane, label, ha="center", va="center", fontsize=7)
                elif label:
                    ax.text(t - w0 + d / 2, lane, nd.name, ha="center", va="center", fontsize=7)
    for x in range(0, 3 * ii + 1, ii):
        ax.axvline(x, color="grey", linestyle="--", linewidth=0.8)
    ax.set_yticks(range(len(lanes)), lanes)
    ax.invert_yaxis()
    ax.set_xlim(0, 3 * ii)
    cycles = ii_cycles if ii_cycles is not None else round(ii * sched.scale)
    ax.set_xlabel(f"time in normalized units (II = {ii} ≈ {cycles} cycles); "
                  "async issues drawn short on role rows")
    ax.set_title(title or f"@{p.name} on {p.machine.name}: steady state, 3 x II")
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)
