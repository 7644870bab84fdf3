warp.loop @fa_forward_causal attributes {smem_resident = 32768 : i64} {
  %k = warp.task @load_k on tma work 32768 -> smem 32768
  %v = warp.task @load_v on tma work 32768 -> smem 32768
  %s0 = warp.task @qk0 on tc work 2097152 (%k) -> reg 32768
  %x0 = warp.task @mask0 on fma work 8192 (%s0) -> reg 0 alias 0
  %m0 = warp.task @max0 on fma work 8192 (%x0, %m0[1]) -> reg 256
  %p0 = warp.task @exp0 on mufu work 8192 (%x0, %m0) -> reg 16384
  %l0 = warp.task @sum0 on fma work 8192 (%p0, %l0[1], %m0) -> reg 256
  %c0 = warp.task @rescale0 on fma work 8192 (%o0[1], %m0) -> reg 0 alias 0
  %o0 = warp.task @pv0 on tc work 2097152 (%p0, %v, %c0) -> reg 32768
  %s1 = warp.task @qk1 on tc work 2097152 (%k) -> reg 32768
  %x1 = warp.task @mask1 on fma work 8192 (%s1) -> reg 0 alias 0
  %m1 = warp.task @max1 on fma work 8192 (%x1, %m1[1]) -> reg 256
  %p1 = warp.task @exp1 on mufu work 8192 (%x1, %m1) -> reg 16384
  %l1 = warp.task @sum1 on fma work 8192 (%p1, %l1[1], %m1) -> reg 256
  %c1 = warp.task @rescale1 on fma work 8192 (%o1[1], %m1) -> reg 0 alias 0
  %o1 = warp.task @pv1 on tc work 2097152 (%p1, %v, %c1) -> reg 32768
}
