"""Targets: the networks under test, loaded from a spec and validated against one protocol."""
