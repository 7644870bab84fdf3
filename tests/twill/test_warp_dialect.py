"""The warp dialect prints, parses and verifies (round trips, and every verifier's message)."""

import io

import pytest
from xdsl.printer import Printer
from xdsl.utils.exceptions import ParseError, VerifyException

from treadle.passes.twill import programs


def _generic(module) -> str:
    out = io.StringIO()
    Printer(stream=out, print_generic_format=True).print_op(module)
    return out.getvalue()


@pytest.mark.parametrize("text", [
    programs.toy(), programs.gemm(), programs.fa_forward_hopper(),
    programs.fa_forward_hopper(causal=True), programs.fa_forward_blackwell(),
    programs.fa_forward_hopper(head_dim=64, block_n=176), programs.fa_backward_hopper(),
])
def test_round_trip(text):
    module = programs.parse(text)
    printed = str(module)
    assert str(programs.parse(printed)) == printed
    assert str(programs.parse(_generic(module))) == printed


def test_custom_syntax():
    loop = programs.the_loop(programs.parse(programs.toy()))
    s, p, o = loop.tasks
    assert (o.sym_name.data, o.unit.data, o.distances) == ("O", "tc", [0, 1])
    assert o.deps[1] is o.result  # the loop-carried accumulator refers to itself
    assert "%o = warp.task @O on tc work 1 (%p, %o[1]) -> reg 0" in str(loop)


BAD = [
    ("warp.loop @l {\n %a = warp.task @a on tc work 1 -> vram 0\n}",
     "result space must be one of reg, smem, tmem, got 'vram'"),
    ("warp.loop @l {\n %a = warp.task @a on tc work 0 -> reg 0\n}", "work must be positive"),
    ("warp.loop @l {\n %a = warp.task @a on tc work 1 -> reg 0\n"
     " %b = warp.task @a on tc work 1 (%a) -> reg 0\n}", "task @a is defined twice"),
    ("warp.loop @l {\n %a = warp.task @a on tc work 1 (%b) -> reg 0\n"
     " %b = warp.task @b on tc work 1 (%a) -> reg 0\n}", "dependence cycle with iteration distance 0"),
    ("warp.loop @l {\n %a = warp.task @a on tc work 1 (%a) -> reg 0\n}",
     "dependence cycle with iteration distance 0"),
    ("warp.loop @l {\n %a = warp.task @a on tc work 1 -> reg 0 alias 0\n}",
     "alias 0 names no operand"),
    ("warp.loop @l schedule #warp.schedule<arch = \"toy\", ii = 2, length = 4, ii_cycles = 2, "
     "optimal = 1, roles = [#warp.role<\"r\", warps = 4, regs = 0>]> {\n"
     " %a = warp.task @a on tc work 1 -> reg 0 slot #warp.slot<start = 3, stage = 0, role = 0, "
     "buffers = 1>\n}", "stage must be start div ii"),
    ("warp.loop @l schedule #warp.schedule<arch = \"toy\", ii = 2, length = 4, ii_cycles = 2, "
     "optimal = 1, roles = [#warp.role<\"r\", warps = 4, regs = 0>]> {\n"
     " %a = warp.task @a on tc work 1 -> reg 0 slot #warp.slot<start = 0, stage = 0, role = 1, "
     "buffers = 1>\n}", "is on role 1 but the schedule has 1 roles"),
    ("warp.loop @l schedule #warp.schedule<arch = \"toy\", ii = 2, length = 4, ii_cycles = 2, "
     "optimal = 1, roles = []> {\n %a = warp.task @a on tc work 1 -> reg 0\n}",
     "task @a has no slot"),
]


@pytest.mark.parametrize(("text", "message"), BAD)
def test_verifier_messages(text, message):
    with pytest.raises(VerifyException, match=message):
        programs.parse(text)


@pytest.mark.parametrize(("text", "message"), [
    ("warp.loop @l {\n %a = warp.task @a on tc work 1 -> reg 0 slot #warp.slot<start = 0, "
     "stage = 0, role = 0, buffers = 0>\n}", "buffers >= 1"),
    ("warp.loop @l schedule #warp.schedule<arch = \"x\", ii = 0, length = 4, ii_cycles = 2, "
     "optimal = 1, roles = []> {\n}", "ii and length must be >= 1"),
])
def test_attribute_verifiers(text, message):
    with pytest.raises((VerifyException, ParseError), match=message):
        programs.parse(text)


SPEC = """warp.specialized @l schedule <arch = "toy", ii = 2, length = 4, ii_cycles = 2,
  optimal = 1, roles = [#warp.role<"a", warps = 1, regs = 0>, #warp.role<"z", warps = 4, regs = 0>]> {
  warp.barrier @b from "a" to "z" depth 1
  warp.role "a" warps 1 regs 0 {
    warp.wait @b "empty"
    warp.exec @t on "tma" at 0 stage 0
    warp.arrive @b "full"
  }
  warp.role "z" warps 4 regs 0 {
    warp.wait @b "full"
  }
}"""


def test_materialized_round_trip():
    printed = str(programs.parse(SPEC))
    assert 'warp.barrier @b from "a" to "z" depth 1' in printed
    assert str(programs.parse(printed)) == printed


@pytest.mark.parametrize(("old", "new", "message"), [
    ('to "z"', 'to "y"', "barrier @b connects a role that does not exist"),
    ('to "z"', 'to "a"', "producer and consumer are the same role"),
    ('depth 1', 'depth 0', "depth must be >= 1"),
    ('@b "full"\n  }\n}', '@c "full"\n  }\n}', "names unknown barrier @c"),
    ('@b "full"\n  }\n}', '@b "half"\n  }\n}', 'kind must be "full" or "empty"'),
    ('"z" warps 4', '"z" warps 0', "warps must be >= 1"),
])
def test_materialized_verifiers(old, new, message):
    assert old in SPEC
    with pytest.raises(VerifyException, match=message):
        programs.parse(SPEC.replace(old, new))
