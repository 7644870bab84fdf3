"""Small helpers the scheduling passes share: read and replace a statement's schedule."""

from treadle.dialects.sparse import AssignOp, ScheduleAttr


def schedule_of(op: AssignOp) -> ScheduleAttr:
    return op.schedule if op.schedule is not None else ScheduleAttr()


def with_schedule(op: AssignOp, **changes) -> ScheduleAttr:
    s = schedule_of(op)
    fields = {
        "order": s.loop_order,
        "tiles": s.tile_sizes,
        "parallel": s.parallel.data,
        "omp": s.omp.data,
        "chunk": s.chunk.data,
        "unroll": s.unroll.data,
    }
    fields.update(changes)
    return ScheduleAttr(**fields)
