"""Benchmark scripts (print medians; never run by the test suite)."""
