// RUN: treadle-opt %s --split-input-file --verify-diagnostics
// One test per verifier of the warp dialect, each reported on its line.

warp.loop @l {
  // expected-error @+1 {{task @a: result space must be one of reg, smem, tmem, got 'vram'}}
  %a = warp.task @a on tc work 1 -> vram 0
}

// -----

warp.loop @l {
  // expected-error @+1 {{task @a: work must be positive}}
  %a = warp.task @a on tc work 0 -> reg 0
}

// -----

// expected-error @+1 {{task @a is defined twice in the loop}}
warp.loop @l {
  %a = warp.task @a on tc work 1 -> reg 0
  %b = warp.task @a on tc work 1 (%a) -> reg 0
}

// -----

// expected-error @+1 {{dependence cycle with iteration distance 0 through @}}
warp.loop @l {
  %a = warp.task @a on tc work 1 (%b) -> reg 0
  %b = warp.task @b on tc work 1 (%a) -> reg 0
}

// -----

warp.loop @l {
  // expected-error @+1 {{task @a: alias 0 names no operand (it has 0)}}
  %a = warp.task @a on tc work 1 -> reg 0 alias 0
}

// -----

// expected-error @+1 {{task @a: stage must be start div ii (3 div 2)}}
warp.loop @l schedule #warp.schedule<arch = "toy", ii = 2, length = 4, ii_cycles = 2, optimal = 1, roles = [#warp.role<"r", warps = 4, regs = 0>]> {
  %a = warp.task @a on tc work 1 -> reg 0 slot #warp.slot<start = 3, stage = 0, role = 0, buffers = 1>
}

// -----

// expected-error @+1 {{task @a is on role 1 but the schedule has 1 roles}}
warp.loop @l schedule #warp.schedule<arch = "toy", ii = 2, length = 4, ii_cycles = 2, optimal = 1, roles = [#warp.role<"r", warps = 4, regs = 0>]> {
  %a = warp.task @a on tc work 1 -> reg 0 slot #warp.slot<start = 0, stage = 0, role = 1, buffers = 1>
}

// -----

// expected-error @+1 {{scheduled loop: task @a has no slot}}
warp.loop @l schedule #warp.schedule<arch = "toy", ii = 2, length = 4, ii_cycles = 2, optimal = 1, roles = []> {
  %a = warp.task @a on tc work 1 -> reg 0
}

// -----

warp.specialized @s schedule <arch = "toy", ii = 2, length = 4, ii_cycles = 2, optimal = 1, roles = []> {
  // expected-error @+1 {{barrier @b: producer and consumer are the same role}}
  warp.barrier @b from "a" to "a" depth 1
  warp.role "a" warps 1 regs 0 {
    warp.wait @b "full"
  }
}

// -----

// expected-error @+1 {{'warp.wait' names unknown barrier @c}}
warp.specialized @s schedule <arch = "toy", ii = 2, length = 4, ii_cycles = 2, optimal = 1, roles = []> {
  warp.barrier @b from "a" to "z" depth 1
  warp.role "a" warps 1 regs 0 {
    warp.wait @c "full"
  }
  warp.role "z" warps 4 regs 0 {
    warp.arrive @b "full"
  }
}

// -----

warp.specialized @s schedule <arch = "toy", ii = 2, length = 4, ii_cycles = 2, optimal = 1, roles = []> {
  warp.barrier @b from "a" to "z" depth 1
  warp.role "a" warps 1 regs 0 {
    warp.wait @b "full"
  }
  warp.role "z" warps 4 regs 0 {
    // expected-error @+1 {{kind must be "full" or "empty"}}
    warp.arrive @b "half"
  }
}

// -----

warp.specialized @s schedule <arch = "toy", ii = 2, length = 4, ii_cycles = 2, optimal = 1, roles = []> {
  // expected-error @+1 {{barrier @b: depth must be >= 1}}
  warp.barrier @b from "a" to "z" depth 0
  warp.role "a" warps 1 regs 0 {
    warp.wait @b "full"
  }
  warp.role "z" warps 4 regs 0 {
    warp.wait @b "full"
  }
}

// -----

// expected-error @+1 {{barrier @b connects a role that does not exist}}
warp.specialized @s schedule <arch = "toy", ii = 2, length = 4, ii_cycles = 2, optimal = 1, roles = []> {
  warp.barrier @b from "a" to "y" depth 1
  warp.role "a" warps 1 regs 0 {
    warp.wait @b "full"
  }
}

// -----

warp.specialized @s schedule <arch = "toy", ii = 2, length = 4, ii_cycles = 2, optimal = 1, roles = []> {
  // expected-error @+1 {{role z: warps must be >= 1}}
  warp.role "z" warps 0 regs 0 {
    warp.exec @t on "tc" at 0 stage 0
  }
}

// -----

warp.loop @l {
  // expected-error @+1 {{#warp.slot: start, stage and role must be >= 0, buffers >= 1}}
  %a = warp.task @a on tc work 1 -> reg 0 slot #warp.slot<start = 0, stage = 0, role = 0, buffers = 0>
}

// -----

// expected-error @+1 {{#warp.schedule: ii and length must be >= 1, optimal 0 or 1}}
warp.loop @l schedule #warp.schedule<arch = "toy", ii = 0, length = 4, ii_cycles = 2, optimal = 1, roles = []> {
}

// -----

// expected-error @+1 {{#warp.role: warps must be >= 1 and regs >= 0}}
warp.loop @l schedule #warp.schedule<arch = "toy", ii = 1, length = 4, ii_cycles = 2, optimal = 1, roles = [#warp.role<"r", warps = 0, regs = 0>]> {
}
