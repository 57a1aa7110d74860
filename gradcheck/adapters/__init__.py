"""Adapters: wrap code written in common styles so it satisfies the target protocol."""

from gradcheck.adapters.cache_pairs import CacheModelTarget, cache_model
from gradcheck.adapters.function_pairs import FunctionLayer, FunctionLayers, function_layer, function_layers
from gradcheck.adapters.functional import FunctionalTarget, functional
from gradcheck.adapters.layer_objects import LayerObjectsTarget, layer_objects
from gradcheck.adapters.model import ModelTarget, model
from gradcheck.adapters.per_sample import PerSampleTarget, per_sample

__all__ = [
    "CacheModelTarget",
    "FunctionLayer",
    "FunctionLayers",
    "FunctionalTarget",
    "LayerObjectsTarget",
    "ModelTarget",
    "PerSampleTarget",
    "cache_model",
    "function_layer",
    "function_layers",
    "functional",
    "layer_objects",
    "model",
    "per_sample",
]
