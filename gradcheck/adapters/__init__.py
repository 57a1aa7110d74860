"""Adapters: wrap code written in common styles so it satisfies the target protocol."""

from gradcheck.adapters.cache_pairs import CacheModelTarget, cache_model
from gradcheck.adapters.function_pairs import FunctionLayer, FunctionLayers, function_layer, function_layers
from gradcheck.adapters.functional import FunctionalTarget, functional
from gradcheck.adapters.in_place import InPlaceTarget, in_place
from gradcheck.adapters.layer_objects import LayerObjectsTarget, layer_objects
from gradcheck.adapters.model import ModelTarget, model
from gradcheck.adapters.module_globals import ModuleGlobalsTarget, module_globals
from gradcheck.adapters.per_sample import PerSampleTarget, per_sample
from gradcheck.adapters.tape import TapeTarget, tape

__all__ = [
    "CacheModelTarget",
    "FunctionLayer",
    "FunctionLayers",
    "FunctionalTarget",
    "InPlaceTarget",
    "LayerObjectsTarget",
    "ModelTarget",
    "ModuleGlobalsTarget",
    "PerSampleTarget",
    "TapeTarget",
    "cache_model",
    "function_layer",
    "function_layers",
    "functional",
    "in_place",
    "layer_objects",
    "model",
    "module_globals",
    "per_sample",
    "tape",
]
