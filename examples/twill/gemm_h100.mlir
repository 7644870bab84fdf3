warp.loop @gemm {
  %a = warp.task @load_a on tma work 16384 -> smem 16384
  %b = warp.task @load_b on tma work 32768 -> smem 32768
  %c0 = warp.task @mma0 on tc work 2097152 (%a, %b, %c0[1]) -> reg 65536
  %c1 = warp.task @mma1 on tc work 2097152 (%a, %b, %c1[1]) -> reg 65536
}
