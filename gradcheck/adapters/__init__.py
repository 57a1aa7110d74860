"""Adapters: wrap code written in common styles so it satisfies the target protocol."""

from gradcheck.adapters.functional import FunctionalTarget, functional

__all__ = ["FunctionalTarget", "functional"]
