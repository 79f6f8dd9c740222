"""Test infrastructure for a real Citus cluster (a coordinator and workers) built from source."""
