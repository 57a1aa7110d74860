"""Pure numerics: step sizes, tolerances, entry selection, finite differences, perturbation."""
