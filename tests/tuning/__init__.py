"""Tests of treadle.tuning."""
