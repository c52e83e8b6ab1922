"""Benchmarks: run by hand, print numbers; never part of the unit suite."""
