// RUN: treadle-opt %s --split-input-file --verify-diagnostics | filecheck %s

warp.loop @l {
  %a = warp.task @a on tc work 1 -> vram 0
}
// CHECK: task @a: result space must be one of reg, smem, tmem, got 'vram'

// -----

warp.loop @l {
  %a = warp.task @a on tc work 0 -> reg 0
}
// CHECK: task @a: work must be positive

// -----

warp.loop @l {
  %a = warp.task @a on tc work 1 -> reg 0
  %b = warp.task @a on tc work 1 (%a) -> reg 0
}
// CHECK: task @a is defined twice in the loop

// -----

warp.loop @l {
  %a = warp.task @a on tc work 1 (%b) -> reg 0
  %b = warp.task @b on tc work 1 (%a) -> reg 0
}
// CHECK: dependence cycle with iteration distance 0 through @

// -----

warp.loop @l {
  %a = warp.task @a on tc work 1 -> reg 0 alias 0
}
// CHECK: task @a: alias 0 names no operand (it has 0)

// -----

warp.loop @l schedule #warp.schedule<arch = "toy", ii = 2, length = 4, ii_cycles = 2, optimal = 1, roles = [#warp.role<"r", warps = 4, regs = 0>]> {
  %a = warp.task @a on tc work 1 -> reg 0 slot #warp.slot<start = 3, stage = 0, role = 0, buffers = 1>
}
// CHECK: task @a: stage must be start div ii (3 div 2)

// -----

warp.loop @l schedule #warp.schedule<arch = "toy", ii = 2, length = 4, ii_cycles = 2, optimal = 1, roles = [#warp.role<"r", warps = 4, regs = 0>]> {
  %a = warp.task @a on tc work 1 -> reg 0 slot #warp.slot<start = 0, stage = 0, role = 1, buffers = 1>
}
// CHECK: task @a is on role 1 but the schedule has 1 roles

// -----

warp.loop @l schedule #warp.schedule<arch = "toy", ii = 2, length = 4, ii_cycles = 2, optimal = 1, roles = []> {
  %a = warp.task @a on tc work 1 -> reg 0
}
// CHECK: scheduled loop: task @a has no slot

// -----

warp.specialized @s schedule <arch = "toy", ii = 2, length = 4, ii_cycles = 2, optimal = 1, roles = []> {
  warp.barrier @b from "a" to "a" depth 1
  warp.role "a" warps 1 regs 0 {
    warp.wait @b "full"
  }
}
// CHECK: barrier @b: producer and consumer are the same role

// -----

warp.specialized @s schedule <arch = "toy", ii = 2, length = 4, ii_cycles = 2, optimal = 1, roles = []> {
  warp.barrier @b from "a" to "z" depth 1
  warp.role "a" warps 1 regs 0 {
    warp.wait @c "full"
  }
  warp.role "z" warps 4 regs 0 {
    warp.arrive @b "half"
  }
}
// CHECK: kind must be "full" or "empty"

// -----

warp.specialized @s schedule <arch = "toy", ii = 2, length = 4, ii_cycles = 2, optimal = 1, roles = []> {
  warp.barrier @b from "a" to "z" depth 0
  warp.role "a" warps 1 regs 0 {
    warp.wait @b "full"
  }
}
// CHECK: barrier @b: depth must be >= 1
