"""Benchmarks: what tenant isolation costs, measured side by side (`make bench`)."""

import os

# The benchmarks run on a throwaway database reached by URL and sign their own tokens
# with the development JWT secret, which settings.py accepts with URLs only when
# ENVIRONMENT says development explicitly.
os.environ.setdefault("ENVIRONMENT", "development")
