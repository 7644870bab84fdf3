// RUN: treadle-opt %s -p "twill-schedule{arch=b200}" | filecheck %s
// RUN: treadle-opt %s -p "twill-schedule{arch=b200},twill-materialize-roles" | filecheck %s --check-prefix=ROLES

// FA forward on B200, d = 128, two 128-row sub-tiles, S/P and O in TMEM (builder:
// passes/twill/programs.py fa_forward_blackwell). FA4's structure comes out of the solver: a TMA
// load warp, one warp issuing every UMMA (tcgen05.mma is variable latency, Twill §5.3), two
// softmax warp groups, one correction warp group; II = the S/P TMEM chain, proven optimal.
warp.loop @fa_forward attributes {smem_resident = 65536 : i64} {
  %k = warp.task @load_k on tma work 32768 -> smem 32768
  %v = warp.task @load_v on tma work 32768 -> smem 32768
  %s0 = warp.task @qk0 on tc work 4194304 (%k) -> tmem 65536
  %r0 = warp.task @ld_s0 on tmem work 65536 (%s0) -> reg 65536
  %m0 = warp.task @max0 on fma work 16384 (%r0, %m0[1]) -> reg 512
  %p0 = warp.task @exp0 on mufu work 16384 (%r0, %m0) -> reg 32768
  %l0 = warp.task @sum0 on fma work 16384 (%p0, %l0[1], %m0) -> reg 512
  %q0 = warp.task @st_p0 on tmem work 32768 (%p0, %s0) -> tmem 0 alias 1
  %c0 = warp.task @correct0 on tmem work 131072 (%o0[1], %m0) -> tmem 0 alias 0
  %o0 = warp.task @pv0 on tc work 4194304 (%q0, %v, %c0) -> tmem 65536
  %s1 = warp.task @qk1 on tc work 4194304 (%k) -> tmem 65536
  %r1 = warp.task @ld_s1 on tmem work 65536 (%s1) -> reg 65536
  %m1 = warp.task @max1 on fma work 16384 (%r1, %m1[1]) -> reg 512
  %p1 = warp.task @exp1 on mufu work 16384 (%r1, %m1) -> reg 32768
  %l1 = warp.task @sum1 on fma work 16384 (%p1, %l1[1], %m1) -> reg 512
  %q1 = warp.task @st_p1 on tmem work 32768 (%p1, %s1) -> tmem 0 alias 1
  %c1 = warp.task @correct1 on tmem work 131072 (%o1[1], %m1) -> tmem 0 alias 0
  %o1 = warp.task @pv1 on tc work 4194304 (%q1, %v, %c1) -> tmem 65536
}

// CHECK: warp.loop @fa_forward schedule #warp.schedule<arch = "b200", ii = 36, length = 51, ii_cycles = 2633, optimal = 1, roles = [#warp.role<"producer", warps = 1, regs = 24>, #warp.role<"mma", warps = 1, regs = 24>, #warp.role<"consumer{{[01]}}", warps = 4, regs = 218>, #warp.role<"correction", warps = 4, regs = 24>, #warp.role<"consumer{{[01]}}", warps = 4, regs = 218>]>
// CHECK: warp.task @load_k on tma {{.*}} role = 0,
// CHECK: warp.task @qk0 on tc {{.*}} role = 1,
// CHECK: warp.task @correct0 on tmem {{.*}} role = 3,
// CHECK: warp.task @pv0 on tc {{.*}} role = 1,
// CHECK: warp.task @qk1 on tc {{.*}} role = 1,
// CHECK: warp.task @correct1 on tmem {{.*}} role = 3,
// CHECK: warp.task @pv1 on tc {{.*}} role = 1,

// ROLES: warp.specialized @fa_forward
// ROLES-DAG: warp.barrier @qk0_to_consumer{{[01]}} from "mma" to "consumer{{[01]}}" depth 1
// ROLES-DAG: warp.barrier @st_p0_to_mma from "consumer{{[01]}}" to "mma" depth 1
// ROLES-DAG: warp.barrier @correct0_to_mma from "correction" to "mma" depth 1
// ROLES-DAG: warp.barrier @pv1_to_correction from "mma" to "correction" depth 1
// ROLES: warp.role "mma" warps 1 regs 24 {
// ROLES-NOT: warp.exec @{{ld_s|max|exp|sum|st_p|correct}}
// ROLES: warp.exec @pv{{[01]}} on "tc"
// ROLES: warp.role "consumer{{[01]}}" warps 4 regs 218 {
// ROLES-NOT: warp.exec @{{qk|pv|correct}}
// ROLES: warp.role "correction" warps 4 regs 24 {
// ROLES-NOT: warp.exec @{{qk|pv|ld_s|max|exp|sum|st_p}}
// ROLES: warp.exec @correct{{[01]}} on "tmem"
// ROLES-NOT: warp.exec @{{qk|pv|ld_s|max|exp|sum|st_p}}
// ROLES: warp.exec @correct{{[01]}} on "tmem"
