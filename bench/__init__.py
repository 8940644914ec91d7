"""Benchmarks: long measurements kept out of the test suite (`make bench`)."""
