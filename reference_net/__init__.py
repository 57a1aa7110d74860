"""reference_net: a clean reference NumPy network, rows = examples."""
