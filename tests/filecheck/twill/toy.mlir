// RUN: treadle-opt %s -p "twill-schedule{arch=toy}" | filecheck %s
// RUN: treadle-opt %s -p "twill-schedule{arch=toy},twill-materialize-roles" | filecheck %s --check-prefix=ROLES

warp.loop @toy {
  %s = warp.task @S on tc work 1 -> reg 0
  %p = warp.task @P on exp work 1 (%s) -> reg 0
  %o = warp.task @O on tc work 1 (%p, %o[1]) -> reg 0
}

// Two GEMMs share one tensor core: I = 2 (ResMII), proven; O lands one stage later, at 3.
// CHECK:      warp.loop @toy schedule #warp.schedule<arch = "toy", ii = 2, length = 4, ii_cycles = 2, optimal = 1, roles = [#warp.role<"consumer0", warps = 4, regs = 0>]> {
// CHECK-NEXT:   %s = warp.task @S on tc work 1 -> reg 0 slot #warp.slot<start = 0, stage = 0, role = 0, buffers = 1>
// CHECK-NEXT:   %p = warp.task @P on exp work 1 (%s) -> reg 0 slot #warp.slot<start = {{[12]}}, stage = 0, role = 0
// CHECK-NEXT:   %o = warp.task @O on tc work 1 (%p, %o[1]) -> reg 0 slot #warp.slot<start = 3, stage = 1, role = 0, buffers = 1>

// ROLES:      warp.specialized @toy schedule <arch = "toy", ii = 2
// ROLES-NEXT:   warp.role "consumer0" warps 4 regs 0 {
// ROLES-NEXT:     warp.exec @S on "tc" at 0 stage 0
// ROLES-NEXT:     warp.exec @P on "exp" at {{[12]}} stage 0
// ROLES-NEXT:     warp.exec @O on "tc" at 3 stage 1
// ROLES-NEXT:   }
