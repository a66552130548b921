"""Benchmarks: each file runs on its own (`python bench/NAME.py --help`) and prints its figures."""
