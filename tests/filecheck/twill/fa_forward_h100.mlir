// RUN: treadle-opt %s -p "twill-schedule{arch=h100}" | filecheck %s
// RUN: treadle-opt %s -p "twill-schedule{arch=h100},twill-materialize-roles" | filecheck %s --check-prefix=ROLES

// FA forward, d = 128, 128 x 128 tiles in two m64 sub-tiles (builder: passes/twill/programs.py).
warp.loop @fa_forward attributes {smem_resident = 32768 : i64} {
  %k = warp.task @load_k on tma work 32768 -> smem 32768
  %v = warp.task @load_v on tma work 32768 -> smem 32768
  %s0 = warp.task @qk0 on tc work 2097152 (%k) -> reg 32768
  %m0 = warp.task @max0 on fma work 8192 (%s0, %m0[1]) -> reg 256
  %p0 = warp.task @exp0 on mufu work 8192 (%s0, %m0) -> reg 16384
  %l0 = warp.task @sum0 on fma work 8192 (%p0, %l0[1], %m0) -> reg 256
  %c0 = warp.task @rescale0 on fma work 8192 (%o0[1], %m0) -> reg 0 alias 0
  %o0 = warp.task @pv0 on tc work 2097152 (%p0, %v, %c0) -> reg 32768
  %s1 = warp.task @qk1 on tc work 2097152 (%k) -> reg 32768
  %m1 = warp.task @max1 on fma work 8192 (%s1, %m1[1]) -> reg 256
  %p1 = warp.task @exp1 on mufu work 8192 (%s1, %m1) -> reg 16384
  %l1 = warp.task @sum1 on fma work 8192 (%p1, %l1[1], %m1) -> reg 256
  %c1 = warp.task @rescale1 on fma work 8192 (%o1[1], %m1) -> reg 0 alias 0
  %o1 = warp.task @pv1 on tc work 2097152 (%p1, %v, %c1) -> reg 32768
}

// II = four GEMMs of 512 cycles on the tensor core = 2048 cycles, proven optimal.
// CHECK: warp.loop @fa_forward schedule #warp.schedule<arch = "h100", ii = {{[0-9]+}}, length = {{[0-9]+}}, ii_cycles = 2048, optimal = 1, roles = [#warp.role<"producer", warps = 1, regs = 24>, #warp.role<"consumer0", warps = 4, regs = 186>, #warp.role<"consumer1", warps = 4, regs = 186>]>
// CHECK: warp.task @load_k on tma {{.*}} role = 0,
// CHECK: warp.task @load_v on tma {{.*}} role = 0,

// ROLES: warp.specialized @fa_forward
// ROLES: warp.barrier @load_k_to_consumer{{[01]}} from "producer" to "consumer{{[01]}}"
// ROLES: warp.role "producer" warps 1 regs 24 {
// ROLES-NEXT: warp.wait @load_{{[kv]}}_to_consumer{{[01]}} "empty"
// ROLES: warp.role "consumer0" warps 4 regs 186 {
// ROLES: warp.wait @load_k_to_consumer0 "full"
// ROLES-NEXT: warp.exec @qk{{[01]}} on "tc"
// ROLES: warp.role "consumer1" warps 4 regs 186 {
