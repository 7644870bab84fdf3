"""Twill: optimal software pipelining + warp specialization of `warp` loops with Z3."""
