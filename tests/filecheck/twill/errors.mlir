// RUN: not treadle-opt %s -p "twill-schedule{arch=h100}" 2>&1 | filecheck %s
// RUN: not treadle-opt %s -p "twill-schedule{arch=a100}" 2>&1 | filecheck %s --check-prefix=ARCH
// RUN: not treadle-opt %s -p "twill-materialize-roles" 2>&1 | filecheck %s --check-prefix=UNSCHED

// The toy runs on an "exp" unit, which the H100 file names "mufu".
warp.loop @toy {
  %s = warp.task @S on tc work 1 -> reg 0
  %p = warp.task @P on exp work 1 (%s) -> reg 0
  %o = warp.task @O on tc work 1 (%p, %o[1]) -> reg 0
}
// CHECK: task @P runs on unit 'exp', which machine 'h100' does not have (units: fma, mufu, tc, tma)
// ARCH: unknown machine 'a100' (known: b200, h100, toy)
// UNSCHED: loop @toy has no #warp.schedule; run twill-schedule first
