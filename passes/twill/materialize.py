"""`twill-materialize-roles`: a scheduled `warp.loop` -> `warp.specialized` with explicit roles.

Each role lists its tasks in steady-state issue order (by issue cycle modulo II). Each value that
crosses roles gets an mbarrier ring `warp.barrier` whose depth is the value's buffer count: the
producer waits for an empty slot, issues, and arrives on `full`; the consumer waits on `full`,
issues, and arrives on `empty` (FA3's full/empty pipeline, CUTLASS's PipelineTmaAsync).
"""

from __future__ import annotations

from dataclasses import dataclass

from xdsl.context import Context
from xdsl.dialects.builtin import ModuleOp
from xdsl.ir import Block, Operation, Region
from xdsl.passes import ModulePass
from xdsl.pattern_rewriter import (
    PatternRewriter,
    PatternRewriteWalker,
    RewritePattern,
    op_type_rewrite_pattern,
)

from treadle.dialects.warp import (
    ArriveOp, BarrierOp, ExecOp, LoopOp, RoleOp, SpecializedOp, TaskOp, WaitOp,
)
from treadle.errors import PipelineError


class MaterializeRoles(RewritePattern):
    @op_type_rewrite_pattern
    def match_and_rewrite(self, loop: LoopOp, rewriter: PatternRewriter) -> None:
        sched = loop.schedule
        if sched is None:
            raise PipelineError(f"twill-materialize-roles: loop @{loop.sym_name.data} has no "
                                "#warp.schedule; run twill-schedule first")
        ii = sched.ii.data
        roles = [r.role_name.data for r in sched.roles.data]
        tasks = loop.tasks
        role_of = {t: t.slot.role.data for t in tasks if t.slot is not None}
        barriers: list[Operation] = []
        waits: dict[TaskOp, list[Operation]] = {t: [] for t in tasks}
        after: dict[TaskOp, list[Operation]] = {t: [] for t in tasks}
        made: dict[tuple[TaskOp, int], str] = {}
        for dst in tasks:
            for dep in dst.deps:
                src = dep.owner
                assert isinstance(src, TaskOp)
                if role_of[src] == role_of[dst]:
                    continue
                key = (src, role_of[dst])
                if key not in made:
                    name = f"{src.sym_name.data}_to_{roles[role_of[dst]]}"
                    made[key] = name
                    barriers.append(BarrierOp(name, roles[role_of[src]], roles[role_of[dst]],
                                              src.slot.buffers.data))
                    waits[src].append(WaitOp(name, "empty"))
                    after[src].append(ArriveOp(name, "full"))
                    waits[dst].append(WaitOp(name, "full"))
                    after[dst].append(ArriveOp(name, "empty"))
                elif not any(isinstance(w, WaitOp) and w.barrier.root_reference.data == made[key]
                             for w in waits[dst]):
                    waits[dst].append(WaitOp(made[key], "full"))
                    after[dst].append(ArriveOp(made[key], "empty"))
        role_ops: list[Operation] = []
        for r, rattr in enumerate(sched.roles.data):
            mine = sorted((t for t in tasks if role_of[t] == r),
                          key=lambda t: (t.slot.start.data % ii, t.slot.start.data))
            body: list[Operation] = []
            for t in mine:
                body += waits[t]
                body.append(ExecOp(t.sym_name.data, t.unit.data, t.slot.start.data,
                                   t.slot.stage.data))
                body += after[t]
            role_ops.append(RoleOp(rattr.role_name.data, rattr.warps.data, rattr.regs.data,
                                   Region(Block(body))))
        new = SpecializedOp(loop.sym_name.data, sched, Region(Block(barriers + role_ops)))
        rewriter.replace(loop, [new], [])


@dataclass(frozen=True)
class TwillMaterializeRolesPass(ModulePass):
    """Turn each scheduled `warp.loop` into per-role programs with barrier arrive/wait."""

    name = "twill-materialize-roles"

    def apply(self, ctx: Context, op: ModuleOp) -> None:
        PatternRewriteWalker(MaterializeRoles(), apply_recursively=False).rewrite_module(op)
