"""Correct from-scratch NumPy networks in the shapes people publish, with bugs written into their
own backward code. :mod:`.catalogue` lists the configurations and the bugs; :mod:`.harness` turns
each one into a loss, its parameters and its gradients for ``gradcheck.check_gradients``."""
