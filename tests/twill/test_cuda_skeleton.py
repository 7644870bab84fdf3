"""The CUDA skeleton lays out roles, stages and barriers, and compiles where nvcc exists."""

import shutil

import pytest

from treadle.backends.cuda.skeleton import compile_check, emit
from treadle.dialects.warp import SpecializedOp
from treadle.passes.twill import programs
from treadle.passes.twill.materialize import TwillMaterializeRolesPass
from treadle.passes.twill.schedule_pass import TwillSchedulePass


def _skeleton(arch: str) -> str:
    module = programs.build("fa-forward", arch)
    TwillSchedulePass(arch=arch).apply(programs.context(), module)
    TwillMaterializeRolesPass().apply(programs.context(), module)
    (spec,) = [op for op in module.walk() if isinstance(op, SpecializedOp)]
    return emit(spec)


@pytest.fixture(scope="module")
def h100_source():
    return _skeleton("h100")


def test_layout(h100_source):
    src = h100_source
    assert "proven optimal" in src and "constexpr int kStages = 2;" in src
    assert 'if (warp < 1) {  // role "producer": warps 0..0' in src
    assert "twill::regs_dec<24>();" in src and "twill::regs_inc<192>();" in src
    assert "mbarrier.try_wait.parity.shared::cta.b64" in src
    assert "twill::mbar_wait(&bars.load_k_to_consumer0_full[i % " in src
    assert "const int i = it - 1;  // stage 1" in src  # the pipelined stage of one consumer


@pytest.mark.parametrize(("arch", "sm"), [("h100", "sm_90a"), ("b200", "sm_100a")])
def test_nvcc_compiles(arch, sm, h100_source):
    if shutil.which("nvcc") is None:
        pytest.skip("nvcc not on PATH: CUDA skeleton not compile-checked")
    src = h100_source if arch == "h100" else _skeleton("b200")
    assert compile_check(src, sm) is not None
