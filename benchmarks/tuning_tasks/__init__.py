"""Tasks and peer methods for benchmarks/tuning.py."""
