"""Fairway's benchmarks: `python -m fairway_bench` runs them all (`make bench`); each prints, never asserts."""
