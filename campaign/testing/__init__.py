"""Helpers shared by the test suite and the load script (bench/); not used by the app."""
