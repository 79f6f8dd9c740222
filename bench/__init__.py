"""Benchmarks: what tenant isolation costs, measured side by side (`make bench`)."""
