warp.loop @toy {
  %s = warp.task @S on tc work 1 -> reg 0
  %p = warp.task @P on exp work 1 (%s) -> reg 0
  %o = warp.task @O on tc work 1 (%p, %o[1]) -> reg 0
}
