"""Timing model of Hopper/Blackwell SMs executing scheduled `warp` loops (see timing.py)."""
