"""Benchmarks: scripts that print their figures (DESIGN §12). Never timed tests."""
