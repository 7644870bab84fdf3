"""The `warp` dialect: an iterative GPU loop as a dependence graph of tile-level async operations.

A `warp.loop` body is a graph region: each `warp.task` is one tile-level operation (a TMA load, a
tensor-core GEMM, a block of exponentials on the MUFU, ...) bound to a functional unit of the
machine, with an amount of work in that unit's measure. Operands are the task's data dependences;
`%m[1]` means "the value of `%m` one iteration earlier" (an iteration distance), so loop-carried
state (running max, running sum, the output accumulator) needs no block arguments. The result says
where the value lives (`reg`, `smem`, `tmem`) and how many bytes it holds.

Twill's solver (`twill-schedule`) fills a `#warp.schedule` on the loop and a `#warp.slot` on every
task; `twill-materialize-roles` then turns the loop into `warp.specialized` with one `warp.role`
per warp group and explicit `warp.arrive` / `warp.wait` on `warp.barrier`s between roles.

```mlir
warp.loop @toy {
  %s = warp.task @S on tc work 1 -> reg 0
  %p = warp.task @P on exp work 1 (%s) -> reg 0
  %o = warp.task @O on tc work 1 (%p, %o[1]) -> reg 0
}
```
"""

from __future__ import annotations

from collections.abc import Sequence

from xdsl.dialects.builtin import (
    I64, ArrayAttr, IntAttr, IntegerAttr, StringAttr, SymbolNameConstraint, SymbolRefAttr, i64,
)
from xdsl.ir import Attribute, Dialect, ParametrizedAttribute, Region, SSAValue, TypeAttribute
from xdsl.irdl import (
    IRDLOperation,
    irdl_attr_definition,
    irdl_op_definition,
    lazy_traits_def,
    opt_prop_def,
    prop_def,
    region_def,
    result_def,
    traits_def,
    var_operand_def,
)
from xdsl.parser import AttrParser, Parser
from xdsl.printer import Printer
from xdsl.traits import HasParent, NoTerminator
from xdsl.utils.exceptions import VerifyException

SPACES = ("reg", "smem", "tmem")


@irdl_attr_definition
class ValueType(ParametrizedAttribute, TypeAttribute):
    """The type of a tile produced by a `warp.task` (where it lives is on the task)."""

    name = "warp.value"


def _parse_int_field(parser: AttrParser, key: str) -> int:
    parser.parse_keyword(key)
    parser.parse_punctuation("=")
    return parser.parse_integer(allow_boolean=False)


@irdl_attr_definition
class SlotAttr(ParametrizedAttribute):
    """Where the schedule puts one task: issue cycle, stage (= start div II), role, buffers.

    `buffers` is how many copies of the result are live at once (modulo variable expansion:
    the SMEM ring depth of a TMA load, the double-buffering of a register tile).
    """

    name = "warp.slot"
    start: IntAttr
    stage: IntAttr
    role: IntAttr
    buffers: IntAttr

    def __init__(self, start: int, stage: int, role: int, buffers: int = 1):
        super().__init__(IntAttr(start), IntAttr(stage), IntAttr(role), IntAttr(buffers))

    @classmethod
    def parse_parameters(cls, parser: AttrParser) -> Sequence[Attribute]:
        with parser.in_angle_brackets():
            vals = [_parse_int_field(parser, "start")]
            for key in ("stage", "role", "buffers"):
                parser.parse_punctuation(",")
                vals.append(_parse_int_field(parser, key))
            if min(vals[:3]) < 0 or vals[3] < 1:
                # Report at the attribute, not at the enclosing op.
                parser.raise_error("#warp.slot: start, stage and role must be >= 0, buffers >= 1")
        return [IntAttr(v) for v in vals]

    def print_parameters(self, printer: Printer) -> None:
        printer.print_string(
            f"<start = {self.start.data}, stage = {self.stage.data}, role = {self.role.data}, "
            f"buffers = {self.buffers.data}>"
        )

    def verify(self) -> None:
        if min(self.start.data, self.stage.data, self.role.data) < 0 or self.buffers.data < 1:
            raise VerifyException("#warp.slot: start, stage and role must be >= 0, buffers >= 1")


@irdl_attr_definition
class RoleAttr(ParametrizedAttribute):
    """A warp-specialized role: a name, how many warps run it, its register budget per thread."""

    name = "warp.role"
    role_name: StringAttr
    warps: IntAttr
    regs: IntAttr

    def __init__(self, role_name: str, warps: int, regs: int):
        super().__init__(StringAttr(role_name), IntAttr(warps), IntAttr(regs))

    @classmethod
    def parse_parameters(cls, parser: AttrParser) -> Sequence[Attribute]:
        with parser.in_angle_brackets():
            name = parser.parse_str_literal()
            parser.parse_punctuation(",")
            warps = _parse_int_field(parser, "warps")
            parser.parse_punctuation(",")
            regs = _parse_int_field(parser, "regs")
            if warps < 1 or regs < 0:
                parser.raise_error("#warp.role: warps must be >= 1 and regs >= 0")
        return [StringAttr(name), IntAttr(warps), IntAttr(regs)]

    def print_parameters(self, printer: Printer) -> None:
        printer.print_string(
            f'<"{self.role_name.data}", warps = {self.warps.data}, regs = {self.regs.data}>'
        )

    def verify(self) -> None:
        if self.warps.data < 1 or self.regs.data < 0:
            raise VerifyException("#warp.role: warps must be >= 1 and regs >= 0")


@irdl_attr_definition
class ScheduleAttr(ParametrizedAttribute):
    """A solved modulo schedule of a loop.

    `ii` and `length` are in the solver's normalized time units; `ii_cycles` is the initiation
    interval in machine cycles. `optimal` is 1 when every smaller II was proven infeasible.
    """

    name = "warp.schedule"
    arch: StringAttr
    ii: IntAttr
    length: IntAttr
    ii_cycles: IntAttr
    optimal: IntAttr
    roles: ArrayAttr[RoleAttr]

    def __init__(self, arch: str, ii: int, length: int, ii_cycles: int, optimal: bool,
                 roles: Sequence[RoleAttr]):
        super().__init__(StringAttr(arch), IntAttr(ii), IntAttr(length), IntAttr(ii_cycles),
                         IntAttr(int(optimal)), ArrayAttr(roles))

    @classmethod
    def parse_parameters(cls, parser: AttrParser) -> Sequence[Attribute]:
        with parser.in_angle_brackets():
            parser.parse_keyword("arch")
            parser.parse_punctuation("=")
            arch = parser.parse_str_literal()
            ints = []
            for key in ("ii", "length", "ii_cycles", "optimal"):
                parser.parse_punctuation(",")
                ints.append(_parse_int_field(parser, key))
            parser.parse_punctuation(",")
            parser.parse_keyword("roles")
            parser.parse_punctuation("=")
            roles = parser.parse_comma_separated_list(
                parser.Delimiter.SQUARE, parser.parse_attribute
            )
            if ints[0] < 1 or ints[1] < 1 or ints[3] not in (0, 1):
                parser.raise_error("#warp.schedule: ii and length must be >= 1, optimal 0 or 1")
        return [StringAttr(arch), *(IntAttr(i) for i in ints), ArrayAttr(roles)]

    def print_parameters(self, printer: Printer) -> None:
        printer.print_string(
            f'<arch = "{self.arch.data}", ii = {self.ii.data}, length = {self.length.data}, '
            f"ii_cycles = {self.ii_cycles.data}, optimal = {self.optimal.data}, roles = ["
        )
        printer.print_list(self.roles.data, printer.print_attribute)
        printer.print_string("]>")

    def verify(self) -> None:
        if self.ii.data < 1 or self.length.data < 1:
            raise VerifyException("#warp.schedule: ii and length must be >= 1, optimal 0 or 1")
        if self.optimal.data not in (0, 1):
            raise VerifyException("#warp.schedule: ii and length must be >= 1, optimal 0 or 1")
        if not all(isinstance(r, RoleAttr) for r in self.roles.data):
            raise VerifyException("#warp.schedule: roles must be #warp.role attributes")


@irdl_op_definition
class LoopOp(IRDLOperation):
    """A singly nested loop whose body is a dependence graph of `warp.task`s (a graph region)."""

    name = "warp.loop"
    sym_name = prop_def(StringAttr)
    schedule = opt_prop_def(ScheduleAttr)
    body = region_def("single_block")
    traits = traits_def(NoTerminator())

    def __init__(self, sym_name: str, body: Region, schedule: ScheduleAttr | None = None):
        super().__init__(properties={"sym_name": StringAttr(sym_name), "schedule": schedule},
                         regions=[body])

    @classmethod
    def parse(cls, parser: Parser) -> LoopOp:
        name = parser.parse_symbol_name().data
        schedule = None
        if parser.parse_optional_keyword("schedule") is not None:
            schedule = parser.parse_attribute()
            if not isinstance(schedule, ScheduleAttr):
                parser.raise_error("expected a #warp.schedule attribute")
        attrs = parser.parse_optional_attr_dict_with_keyword()
        op = cls(name, parser.parse_region(), schedule)
        if attrs is not None:
            op.attributes |= attrs.data
        return op

    def print(self, printer: Printer) -> None:
        printer.print_string(" ")
        printer.print_symbol_name(self.sym_name.data)
        if self.schedule is not None:
            printer.print_string(" schedule ")
            printer.print_attribute(self.schedule)
        if self.attributes:
            printer.print_string(" attributes ")
            printer.print_attr_dict(self.attributes)
        printer.print_string(" ")
        printer.print_region(self.body, print_entry_block_args=False)

    @property
    def tasks(self) -> list[TaskOp]:
        return [op for op in self.body.block.ops if isinstance(op, TaskOp)]

    def verify_(self) -> None:
        seen: set[str] = set()
        for task in self.tasks:
            if task.sym_name.data in seen:
                raise VerifyException(f"task @{task.sym_name.data} is defined twice in the loop")
            seen.add(task.sym_name.data)
        self._verify_no_zero_distance_cycle()
        if self.schedule is None:
            return
        nroles = len(self.schedule.roles.data)
        for task in self.tasks:
            if task.slot is None:
                raise VerifyException(f"scheduled loop: task @{task.sym_name.data} has no slot")
            if task.slot.role.data >= nroles:
                raise VerifyException(
                    f"task @{task.sym_name.data} is on role {task.slot.role.data} but the "
                    f"schedule has {nroles} roles"
                )
            if task.slot.stage.data != task.slot.start.data // self.schedule.ii.data:
                raise VerifyException(
                    f"task @{task.sym_name.data}: stage must be start div ii "
                    f"({task.slot.start.data} div {self.schedule.ii.data})"
                )

    def _verify_no_zero_distance_cycle(self) -> None:
        """Within one iteration the graph must be acyclic: a cycle needs a distance >= 1."""
        state: dict[TaskOp, int] = {}

        def visit(task: TaskOp) -> None:
            state[task] = 1
            for dep, dist in zip(task.deps, task.distances, strict=True):
                if dist != 0 or not isinstance(src := dep.owner, TaskOp):
                    continue
                if state.get(src) == 1:
                    raise VerifyException(
                        f"dependence cycle with iteration distance 0 through @{src.sym_name.data}"
                    )
                if src not in state:
                    visit(src)
            state[task] = 2

        for task in self.tasks:
            if task not in state:
                visit(task)


@irdl_op_definition
class TaskOp(IRDLOperation):
    """One tile-level operation of the loop body, bound to a unit of the machine.

    `work` is in the unit's measure (flop on `tc`, exponentials on `mufu`, lane-ops on `fma`,
    bytes on `tma`/`tmem`); the scheduler turns it into cycles with the machine file.
    `distances[k]` is the iteration distance of operand k. `alias` names the operand whose
    storage the result reuses (P written over S in tensor memory; O rescaled in place).
    """

    name = "warp.task"
    sym_name = prop_def(StringAttr)
    unit = prop_def(StringAttr)
    work = prop_def(IntAttr)
    dist = prop_def(ArrayAttr[IntAttr], prop_name="distances")
    space = prop_def(StringAttr)
    nbytes = prop_def(IntAttr, prop_name="bytes")
    alias = opt_prop_def(IntAttr)
    slot = opt_prop_def(SlotAttr)
    deps = var_operand_def(ValueType)
    result = result_def(ValueType)
    traits = lazy_traits_def(lambda: (HasParent(LoopOp),))

    def __init__(self, sym_name: str, unit: str, work: int, deps: Sequence[SSAValue] = (),
                 distances: Sequence[int] | None = None, space: str = "reg", nbytes: int = 0,
                 alias: int | None = None, slot: SlotAttr | None = None):
        distances = [0] * len(deps) if distances is None else list(distances)
        super().__init__(
            operands=[list(deps)],
            result_types=[ValueType()],
            properties={
                "sym_name": StringAttr(sym_name), "unit": StringAttr(unit), "work": IntAttr(work),
                "distances": ArrayAttr([IntAttr(d) for d in distances]),
                "space": StringAttr(space), "bytes": IntAttr(nbytes),
                "alias": None if alias is None else IntAttr(alias), "slot": slot,
            },
        )

    @property
    def distances(self) -> list[int]:
        return [d.data for d in self.dist.data]

    @classmethod
    def parse(cls, parser: Parser) -> TaskOp:
        name = parser.parse_symbol_name().data
        parser.parse_keyword("on")
        unit = parser.parse_identifier("expected a unit name")
        parser.parse_keyword("work")
        work = parser.parse_integer(allow_boolean=False, allow_negative=False)

        def parse_dep() -> tuple[SSAValue, int]:
            value = parser.resolve_operand(parser.parse_unresolved_operand(), ValueType())
            dist = 0
            if parser.parse_optional_punctuation("[") is not None:
                dist = parser.parse_integer(allow_boolean=False)
                parser.parse_punctuation("]")
            return value, dist

        deps = parser.parse_optional_comma_separated_list(parser.Delimiter.PAREN, parse_dep) or []
        parser.parse_punctuation("->")
        space = parser.parse_identifier("expected reg, smem or tmem")
        nbytes = parser.parse_integer(allow_boolean=False, allow_negative=False)
        alias = None
        if parser.parse_optional_keyword("alias") is not None:
            alias = parser.parse_integer(allow_boolean=False, allow_negative=False)
        slot = None
        if parser.parse_optional_keyword("slot") is not None:
            slot = parser.parse_attribute()
            if not isinstance(slot, SlotAttr):
                parser.raise_error("expected a #warp.slot attribute")
        attrs = parser.parse_optional_attr_dict_with_keyword()
        op = cls(name, unit, work, [v for v, _ in deps], [d for _, d in deps], space, nbytes,
                 alias, slot)
        if attrs is not None:
            op.attributes |= attrs.data
        return op

    def print(self, printer: Printer) -> None:
        printer.print_string(" ")
        printer.print_symbol_name(self.sym_name.data)
        printer.print_string(f" on {self.unit.data} work {self.work.data}")
        if self.deps:
            printer.print_string(" (")
            for k, (dep, dist) in enumerate(zip(self.deps, self.distances, strict=False)):
                if k:
                    printer.print_string(", ")
                printer.print_operand(dep)
                if dist:
                    printer.print_string(f"[{dist}]")
            printer.print_string(")")
        printer.print_string(f" -> {self.space.data} {self.nbytes.data}")
        if self.alias is not None:
            printer.print_string(f" alias {self.alias.data}")
        if self.slot is not None:
            printer.print_string(" slot ")
            printer.print_attribute(self.slot)
        if self.attributes:
            printer.print_string(" attributes ")
            printer.print_attr_dict(self.attributes)

    def verify_(self) -> None:
        if len(self.distances) != len(self.deps):
            raise VerifyException(
                f"task @{self.sym_name.data}: {len(self.deps)} operands but "
                f"{len(self.distances)} iteration distances"
            )
        if any(d < 0 for d in self.distances):
            raise VerifyException(f"task @{self.sym_name.data}: iteration distances must be >= 0")
        if self.space.data not in SPACES:
            raise VerifyException(
                f"task @{self.sym_name.data}: result space must be one of {', '.join(SPACES)}, "
                f"got '{self.space.data}'"
            )
        if self.work.data <= 0:
            raise VerifyException(f"task @{self.sym_name.data}: work must be positive")
        if self.alias is not None and self.alias.data >= len(self.deps):
            raise VerifyException(
                f"task @{self.sym_name.data}: alias {self.alias.data} names no operand "
                f"(it has {len(self.deps)})"
            )
        for dep in self.deps:
            if not isinstance(dep.owner, TaskOp) or dep.owner.parent_op() is not self.parent_op():
                raise VerifyException(
                    f"task @{self.sym_name.data}: operands must be results of tasks of the same loop"
                )


# ---------------------------------------------------------------- after role materialization


def _i64(value: int) -> IntegerAttr:
    return IntegerAttr(value, i64)


@irdl_op_definition
class SpecializedOp(IRDLOperation):
    """A warp-specialized loop: barriers between roles, then one `warp.role` per warp group."""

    name = "warp.specialized"
    sym_name = prop_def(SymbolNameConstraint())
    schedule = prop_def(ScheduleAttr)
    body = region_def("single_block")
    traits = traits_def(NoTerminator())
    assembly_format = "$sym_name `schedule` $schedule attr-dict-with-keyword $body"

    def __init__(self, sym_name: str, schedule: ScheduleAttr, body: Region):
        super().__init__(properties={"sym_name": StringAttr(sym_name), "schedule": schedule},
                         regions=[body])

    def verify_(self) -> None:
        barriers = {op.sym_name.data for op in self.body.block.ops if isinstance(op, BarrierOp)}
        roles = {op.sym_name.data for op in self.body.block.ops if isinstance(op, RoleOp)}
        for op in self.body.block.ops:
            if isinstance(op, BarrierOp) and not {op.producer.data, op.consumer.data} <= roles:
                raise VerifyException(
                    f"barrier @{op.sym_name.data} connects a role that does not exist"
                )
        for op in self.body.walk():
            if isinstance(op, ArriveOp | WaitOp) and op.barrier.root_reference.data not in barriers:
                raise VerifyException(
                    f"'{op.name}' names unknown barrier @{op.barrier.root_reference.data}"
                )


@irdl_op_definition
class BarrierOp(IRDLOperation):
    """An mbarrier ring between two roles: `depth` slots, one per in-flight buffer."""

    name = "warp.barrier"
    sym_name = prop_def(SymbolNameConstraint())
    producer = prop_def(StringAttr)
    consumer = prop_def(StringAttr)
    depth = prop_def(IntegerAttr[I64])
    traits = lazy_traits_def(lambda: (HasParent(SpecializedOp),))
    assembly_format = "$sym_name `from` $producer `to` $consumer `depth` $depth attr-dict"

    def __init__(self, sym_name: str, producer: str, consumer: str, depth: int):
        super().__init__(properties={"sym_name": StringAttr(sym_name),
                                     "producer": StringAttr(producer),
                                     "consumer": StringAttr(consumer), "depth": _i64(depth)})

    def verify_(self) -> None:
        if self.depth.value.data < 1:
            raise VerifyException(f"barrier @{self.sym_name.data}: depth must be >= 1")
        if self.producer.data == self.consumer.data:
            raise VerifyException(
                f"barrier @{self.sym_name.data}: producer and consumer are the same role"
            )


@irdl_op_definition
class RoleOp(IRDLOperation):
    """The program of one warp-specialized role: its steady-state body, in issue order."""

    name = "warp.role"
    sym_name = prop_def(StringAttr)
    warps = prop_def(IntegerAttr[I64])
    regs = prop_def(IntegerAttr[I64])
    body = region_def("single_block")
    traits = lazy_traits_def(lambda: (HasParent(SpecializedOp), NoTerminator()))
    assembly_format = "$sym_name `warps` $warps `regs` $regs attr-dict-with-keyword $body"

    def __init__(self, sym_name: str, warps: int, regs: int, body: Region):
        super().__init__(properties={"sym_name": StringAttr(sym_name), "warps": _i64(warps),
                                     "regs": _i64(regs)}, regions=[body])

    def verify_(self) -> None:
        if self.warps.value.data < 1:
            raise VerifyException(f"role {self.sym_name.data}: warps must be >= 1")


@irdl_op_definition
class ExecOp(IRDLOperation):
    """Issue one task of the loop (at `start` in the modulo schedule, in pipeline `stage`)."""

    name = "warp.exec"
    task = prop_def(SymbolRefAttr)
    unit = prop_def(StringAttr)
    start = prop_def(IntegerAttr[I64])
    stage = prop_def(IntegerAttr[I64])
    traits = lazy_traits_def(lambda: (HasParent(RoleOp),))
    assembly_format = "$task `on` $unit `at` $start `stage` $stage attr-dict"

    def __init__(self, task: str, unit: str, start: int, stage: int):
        super().__init__(properties={"task": SymbolRefAttr(task), "unit": StringAttr(unit),
                                     "start": _i64(start), "stage": _i64(stage)})


class _BarrierSync(IRDLOperation):
    barrier = prop_def(SymbolRefAttr)
    kind = prop_def(StringAttr)
    traits = lazy_traits_def(lambda: (HasParent(RoleOp),))
    assembly_format = "$barrier $kind attr-dict"

    def __init__(self, barrier: str, kind: str):
        super().__init__(properties={"barrier": SymbolRefAttr(barrier), "kind": StringAttr(kind)})

    def verify_(self) -> None:
        if self.kind.data not in ("full", "empty"):
            raise VerifyException(f"{self.name}: kind must be \"full\" or \"empty\"")


@irdl_op_definition
class ArriveOp(_BarrierSync):
    """Signal one slot of a barrier: data produced (`full`) or buffer released (`empty`)."""

    name = "warp.arrive"


@irdl_op_definition
class WaitOp(_BarrierSync):
    """Block until a barrier slot is `full` (consumer) or `empty` (producer)."""

    name = "warp.wait"


Warp = Dialect(
    "warp",
    [LoopOp, TaskOp, SpecializedOp, BarrierOp, RoleOp, ExecOp, ArriveOp, WaitOp],
    [ValueType, SlotAttr, RoleAttr, ScheduleAttr],
)
