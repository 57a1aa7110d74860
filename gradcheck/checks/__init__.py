"""Checks: compare analytic with numeric gradients and explain the differences."""
