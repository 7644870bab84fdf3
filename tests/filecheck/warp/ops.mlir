// RUN: treadle-opt %s | filecheck %s
// RUN: treadle-opt %s --print-op-generic | treadle-opt | filecheck %s

// The toy loop of Twill Fig. 1, unscheduled: a graph region with a loop-carried operand.
warp.loop @toy {
  %s = warp.task @S on tc work 1 -> reg 0
  %p = warp.task @P on exp work 1 (%s) -> reg 0
  %o = warp.task @O on tc work 1 (%p, %o[1]) -> reg 0
}
// CHECK:      warp.loop @toy {
// CHECK-NEXT:   %s = warp.task @S on tc work 1 -> reg 0
// CHECK-NEXT:   %p = warp.task @P on exp work 1 (%s) -> reg 0
// CHECK-NEXT:   %o = warp.task @O on tc work 1 (%p, %o[1]) -> reg 0
// CHECK-NEXT: }

// Aliases, memory spaces, slots and the schedule attribute.
warp.loop @sched schedule #warp.schedule<arch = "b200", ii = 3, length = 5, ii_cycles = 1024, optimal = 0, roles = [#warp.role<"producer", warps = 1, regs = 24>, #warp.role<"consumer0", warps = 4, regs = 200>]> attributes {smem_resident = 32768 : i64} {
  %kk = warp.task @load_k on tma work 32768 -> smem 32768 slot #warp.slot<start = 0, stage = 0, role = 0, buffers = 2>
  %ss = warp.task @qk on tc work 4194304 (%kk) -> tmem 65536 slot #warp.slot<start = 1, stage = 0, role = 1, buffers = 1>
  %qq = warp.task @st_p on tmem work 32768 (%kk, %ss) -> tmem 0 alias 1 slot #warp.slot<start = 4, stage = 1, role = 1, buffers = 1>
}
// CHECK:      warp.loop @sched schedule #warp.schedule<arch = "b200", ii = 3, length = 5, ii_cycles = 1024, optimal = 0, roles = [#warp.role<"producer", warps = 1, regs = 24>, #warp.role<"consumer0", warps = 4, regs = 200>]> attributes {smem_resident = 32768 : i64} {
// CHECK-NEXT:   %kk = warp.task @load_k on tma work 32768 -> smem 32768 slot #warp.slot<start = 0, stage = 0, role = 0, buffers = 2>
// CHECK-NEXT:   %ss = warp.task @qk on tc work 4194304 (%kk) -> tmem 65536 slot #warp.slot<start = 1, stage = 0, role = 1, buffers = 1>
// CHECK-NEXT:   %qq = warp.task @st_p on tmem work 32768 (%kk, %ss) -> tmem 0 alias 1 slot #warp.slot<start = 4, stage = 1, role = 1, buffers = 1>

// After role materialization.
warp.specialized @spec schedule <arch = "toy", ii = 2, length = 4, ii_cycles = 2, optimal = 1, roles = [#warp.role<"producer", warps = 1, regs = 24>, #warp.role<"consumer0", warps = 4, regs = 64>]> {
  warp.barrier @k_to_consumer0 from "producer" to "consumer0" depth 2
  warp.role "producer" warps 1 regs 24 {
    warp.wait @k_to_consumer0 "empty"
    warp.exec @load_k on "tma" at 0 stage 0
    warp.arrive @k_to_consumer0 "full"
  }
  warp.role "consumer0" warps 4 regs 64 {
    warp.wait @k_to_consumer0 "full"
    warp.exec @qk on "tc" at 1 stage 0
    warp.arrive @k_to_consumer0 "empty"
  }
}
// CHECK:      warp.specialized @spec schedule <arch = "toy", ii = 2, length = 4, ii_cycles = 2, optimal = 1, roles = [#warp.role<"producer", warps = 1, regs = 24>, #warp.role<"consumer0", warps = 4, regs = 64>]> {
// CHECK-NEXT:   warp.barrier @k_to_consumer0 from "producer" to "consumer0" depth 2
// CHECK-NEXT:   warp.role "producer" warps 1 regs 24 {
// CHECK-NEXT:     warp.wait @k_to_consumer0 "empty"
// CHECK-NEXT:     warp.exec @load_k on "tma" at 0 stage 0
// CHECK-NEXT:     warp.arrive @k_to_consumer0 "full"
// CHECK-NEXT:   }
// CHECK-NEXT:   warp.role "consumer0" warps 4 regs 64 {
// CHECK-NEXT:     warp.wait @k_to_consumer0 "full"
// CHECK-NEXT:     warp.exec @qk on "tc" at 1 stage 0
// CHECK-NEXT:     warp.arrive @k_to_consumer0 "empty"
