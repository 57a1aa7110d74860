"""Broken softmaxes shared by the probe tests, each named after its defect."""

import numpy as np


def naive_softmax(Z):
    E = np.exp(Z)
    return E / E.sum(axis=-1, keepdims=True)


def batch_normalised_softmax(Z):
    E = np.exp(Z - Z.max())
    return E / np.sum(E)


def wrong_axis_softmax(Z):
    E = np.exp(Z - Z.max(axis=0, keepdims=True))
    return E / E.sum(axis=0, keepdims=True)
