"""The registry of the shapes corpus: every correct configuration and every bug written into a
module's own backward code.

:data:`CORRECT` lists builds that must pass every gradient check (``dtypes`` says which float
types each is meant to run in). :data:`BUGS` lists :class:`ShapeBug` entries: the build (the
harness adds ``bug=name``), the parameters the bug makes wrong (dotted paths in the code's own
structure, ``input`` for the gradient of the network's input), the structural cause in the
vocabulary of :data:`CAUSES`, and words a good hint would contain.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

#: The structural causes a bug can have.
CAUSES = {
    "recurrent_term": "a missing term through time",
    "missing_term": "a missing additive branch: a residual, batch norm's variance term, a tied "
                    "weight's second use",
    "routing": "gradient sent to the wrong entries: pooling, masks",
    "orientation": "a transposed or unflipped kernel or weight, a wrong time index, a wrong axis",
    "index": "an off-by-one window, a wrong token index, a wrong padding offset",
    "reduction": "a sum over the wrong axes: a bias gradient summed over its units, not the examples",
    "sign": "the gradient's sign flipped",
    "scale": "the gradient off by a constant factor",
    "jacobian": "softmax's full Jacobian replaced by its diagonal",
    "derivative": "an activation derivative taken on the wrong value",
}

F64 = (np.float64,)
BOTH = (np.float64, np.float32)


@dataclass(frozen=True)
class ShapeConfig:
    """A correct build: ``harness.target(config, dtype)`` for each dtype in ``dtypes``."""

    module: str
    builder_kwargs: dict
    dtypes: tuple = BOTH
    data: dict = field(default_factory=dict)
    note: str = ""

    @property
    def id(self) -> str:
        args = ",".join(f"{k}={v}" for k, v in self.builder_kwargs.items())
        return f"{self.module}[{args}]"


@dataclass(frozen=True)
class ShapeBug:
    """A bug written into ``module``'s backward code, built with ``builder_kwargs`` plus ``bug=name``."""

    module: str
    name: str
    builder_kwargs: dict
    wrong: frozenset
    cause: str
    words: tuple
    data: dict = field(default_factory=dict)
    #: Whether some layer's own input gradient is wrong when the glue offers the layers one by
    #: one; None: as ``input`` in ``wrong`` says (a network whose first layer returns no input
    #: gradient has no ``input``, yet a layer below the bug sends a wrong one back).
    layer_inputs: bool | None = None

    def __post_init__(self):
        if self.cause not in CAUSES:
            raise ValueError(f"{self.name}: unknown cause {self.cause!r}")

    @property
    def id(self) -> str:
        return f"{self.module}.{self.name}"


CORRECT = [
    # a vanilla RNN with global parameters, loss summed over the steps
    ShapeConfig("char_rnn", {"seed": 0, "hidden": 8, "vocab": 6}),
    ShapeConfig("char_rnn", {"seed": 1, "hidden": 5, "vocab": 4}, data={"seq": 9}),
    # the layer library: each kind at two sizes or seeds, three activations, both optimizers
    ShapeConfig("layer_library", {"kind": "mlp", "seed": 0}),
    ShapeConfig("layer_library", {"kind": "mlp", "seed": 1, "n_in": 3, "hidden": 3, "classes": 3,
                                  "activation": "tanh", "optimizer": "momentum"}),
    ShapeConfig("layer_library", {"kind": "mlp", "seed": 2, "n_in": 6, "hidden": 7, "classes": 4,
                                  "activation": "sigmoid"}, data={"batch": 6}),
    ShapeConfig("layer_library", {"kind": "batchnorm", "seed": 0}),
    ShapeConfig("layer_library", {"kind": "batchnorm", "seed": 1, "n_in": 3, "hidden": 6,
                                  "optimizer": "momentum"}, data={"batch": 8}),
    ShapeConfig("layer_library", {"kind": "dropout", "seed": 0}),
    ShapeConfig("layer_library", {"kind": "dropout", "seed": 1, "hidden": 8, "p": 0.5}, data={"batch": 6}),
    ShapeConfig("layer_library", {"kind": "conv", "seed": 0}),
    ShapeConfig("layer_library", {"kind": "conv", "seed": 1, "stride": 2, "filters": 3}, data={"batch": 2}),
    ShapeConfig("layer_library", {"kind": "conv", "seed": 2, "padding": 0, "image": 5}, data={"batch": 3}),
    # one image at a time, updates in place
    ShapeConfig("cnn_inplace", {"seed": 0, "size": 8, "filters": 2}),
    ShapeConfig("cnn_inplace", {"seed": 1, "size": 10, "filters": 3, "classes": 4}),
    # a functional transformer LM, float32 first
    ShapeConfig("transformer", {"seed": 0}, dtypes=(np.float32, np.float64)),
    ShapeConfig("transformer", {"seed": 1, "vocab": 9, "d_model": 6, "n_heads": 3, "seq": 4,
                                "n_layers": 2}, dtypes=(np.float32, np.float64)),
    # an LSTM over time with a linear read-out at every step
    ShapeConfig("lstm", {"seed": 0, "hidden": 4, "n_in": 3, "steps": 4}),
    ShapeConfig("lstm", {"seed": 1, "hidden": 5, "n_in": 2, "steps": 3, "loss": "mse", "batch": 3}),
    # conv and pool layer objects keeping dW, db
    ShapeConfig("conv_pool", {"seed": 0}),
    ShapeConfig("conv_pool", {"seed": 1, "size": 7, "channels": 2, "filters": 2, "stride": 2}),
    # float32 weights whose loss computes in float64: one-hot inputs made by np.zeros (float64),
    # and attention dividing by np.sqrt(d_head) as NumPy returns it (a float64 scalar)
    ShapeConfig("char_rnn", {"seed": 2, "inputs": "float64"}, dtypes=(np.float32,),
                note="float32 weights, float64 inputs: the loss computes in float64 along most"),
    ShapeConfig("transformer", {"seed": 2, "upcast": True}, dtypes=(np.float32,),
                note="float32 weights, float64 from the attention scores on"),
]

#: What makes a module's float32 build compute its loss in float64 (the builder's keywords).
UPCAST = {"char_rnn": {"inputs": "float64"}, "transformer": {"upcast": True}}


def _bug(module, name, kwargs, wrong, cause, words, data=None, layer_inputs=None):
    return ShapeBug(module, name, kwargs, frozenset(wrong), cause, tuple(words), data or {}, layer_inputs)


_RNN_HIDDEN = ("Wxh", "Whh", "bh")
_LSTM = ("params.Wx", "params.Wh", "params.b", "input")
_BLOCK_ATTN = ("blocks.0.attn.Wqkv", "blocks.0.ln1.g", "blocks.0.ln1.b", "embed", "pos")
_ALL_BUT_LN_F = ("embed", "pos", "blocks.0.ln1.g", "blocks.0.ln1.b", "blocks.0.attn.Wqkv",
                 "blocks.0.attn.Wo", "blocks.0.ln2.g", "blocks.0.ln2.b", "blocks.0.mlp.W1",
                 "blocks.0.mlp.b1", "blocks.0.mlp.W2", "blocks.0.mlp.b2")

BUGS = [
    # -- char_rnn ---------------------------------------------------------------------------------
    _bug("char_rnn", "missing_dhnext", {"seed": 0}, _RNN_HIDDEN, "recurrent_term",
         ("next", "time", "recurrent")),
    _bug("char_rnn", "tanh_derivative_of_input", {"seed": 0}, _RNN_HIDDEN, "derivative",
         ("tanh", "derivative", "output")),
    _bug("char_rnn", "whh_untransposed", {"seed": 0}, _RNN_HIDDEN, "orientation",
         ("transpose", "Whh")),
    _bug("char_rnn", "dby_not_accumulated", {"seed": 0}, ("by",), "recurrent_term",
         ("accumulate", "time", "+=")),
    _bug("char_rnn", "dWxh_wrong_time_index", {"seed": 0}, ("Wxh",), "orientation",
         ("time", "index", "step")),
    # -- layer_library ----------------------------------------------------------------------------
    _bug("layer_library", "batchnorm_missing_variance_term", {"kind": "batchnorm", "seed": 0},
         ("layers.0.W", "input"), "missing_term", ("variance", "batch norm", "term")),
    _bug("layer_library", "softmax_jacobian_diagonal_only", {"kind": "mlp", "seed": 0},
         ("layers.0.W", "layers.0.w0", "layers.2.W", "layers.2.w0", "input"), "jacobian",
         ("softmax", "Jacobian", "diagonal")),
    _bug("layer_library", "dense_grad_w_not_transposed",
         {"kind": "mlp", "seed": 0, "n_in": 3, "hidden": 3, "classes": 3},
         ("layers.0.W", "layers.2.W"), "orientation", ("transpose", "square")),
    _bug("layer_library", "conv_kernel_not_flipped", {"kind": "conv", "seed": 0},
         ("layers.0.W",), "orientation", ("flip", "kernel")),
    _bug("layer_library", "conv_window_off_by_one", {"kind": "conv", "seed": 0},
         ("input",), "index", ("window", "off-by-one")),
    _bug("layer_library", "dropout_mask_not_applied_in_backward", {"kind": "dropout", "seed": 0},
         ("layers.0.W", "layers.0.w0", "input"), "routing", ("mask", "dropout")),
    # -- cnn_inplace ------------------------------------------------------------------------------
    _bug("cnn_inplace", "maxpool_routes_to_every_entry", {"seed": 0}, ("conv.filters",), "routing",
         ("max", "pool", "every"), layer_inputs=True),
    _bug("cnn_inplace", "conv_window_off_by_one", {"seed": 0}, ("conv.filters",), "index",
         ("window", "off-by-one")),
    _bug("cnn_inplace", "softmax_gradient_wrong_sign", {"seed": 0},
         ("conv.filters", "softmax.weights", "softmax.biases"), "sign", ("sign",), layer_inputs=True),
    _bug("cnn_inplace", "dense_bias_gradient_missing", {"seed": 0}, ("softmax.biases",), "missing_term",
         ("bias", "zero")),
    _bug("cnn_inplace", "conv_filters_transposed", {"seed": 0}, ("conv.filters",), "orientation",
         ("transpose", "filter")),
    # -- transformer ------------------------------------------------------------------------------
    _bug("transformer", "residual_branch_missing", {"seed": 0, "dtype": np.float64}, ("embed", "pos"),
         "missing_term", ("residual", "skip")),
    _bug("transformer", "attention_softmax_jacobian_diagonal", {"seed": 0, "dtype": np.float64},
         _BLOCK_ATTN, "jacobian", ("softmax", "Jacobian", "diagonal")),
    _bug("transformer", "layernorm_variance_term_missing", {"seed": 0, "dtype": np.float64},
         _ALL_BUT_LN_F, "missing_term", ("layer norm", "variance")),
    _bug("transformer", "tied_embedding_only_output_use", {"seed": 0, "dtype": np.float64}, ("embed",),
         "missing_term", ("tied", "shared", "both")),
    _bug("transformer", "embedding_wrong_index", {"seed": 0, "dtype": np.float64}, ("embed",), "index",
         ("index", "token", "embedding")),
    _bug("transformer", "causal_mask_not_applied_in_backward", {"seed": 0, "dtype": np.float64},
         _BLOCK_ATTN, "routing", ("mask", "causal")),
    # -- lstm -------------------------------------------------------------------------------------
    _bug("lstm", "forget_gate_derivative_wrong", {"seed": 0}, _LSTM, "derivative",
         ("forget", "gate", "derivative", "sigmoid")),
    _bug("lstm", "missing_dc_next", {"seed": 0}, _LSTM, "recurrent_term", ("cell", "time", "next")),
    _bug("lstm", "output_gate_uses_c_not_tanh_c", {"seed": 0}, _LSTM, "derivative",
         ("output", "gate", "tanh")),
    _bug("lstm", "dWh_from_wrong_step", {"seed": 0}, ("params.Wh",), "orientation",
         ("time", "step", "previous")),
    _bug("lstm", "mse_missing_1_over_T", {"seed": 1, "hidden": 5, "n_in": 2, "steps": 3, "loss": "mse",
                                          "batch": 3}, _LSTM + ("params.Wy", "params.by"), "scale",
         ("steps", "1/T", "mean")),
    _bug("lstm", "mse_target_of_the_previous_step", {"seed": 1, "hidden": 5, "n_in": 2, "steps": 3,
                                                     "loss": "mse", "batch": 3},
         _LSTM + ("params.Wy", "params.by"), "index", ("target", "step", "time")),
    # -- conv_pool --------------------------------------------------------------------------------
    _bug("conv_pool", "pool_gradient_to_all", {"seed": 0},
         ("layers.0.W", "layers.0.b", "layers.2.W", "layers.2.b", "input"), "routing",
         ("max", "pool", "every")),
    # the wrong axis sums over the filters instead of the batch: shape-correct when the batch
    # size equals the number of filters
    _bug("conv_pool", "conv_db_wrong_axis", {"seed": 0, "filters": 3, "batch": 3},
         ("layers.0.b", "layers.2.b"), "reduction", ("axis", "bias", "sum")),
    _bug("conv_pool", "conv_pad_offset", {"seed": 0}, ("layers.0.W", "layers.0.b", "input"), "index",
         ("pad", "offset", "crop")),
    _bug("conv_pool", "conv_dW_kernel_flipped", {"seed": 0}, ("layers.0.W", "layers.2.W"), "orientation",
         ("kernel", "flip", "rotate")),
    # a stride of 1 in the second convolution's backward (stride 2): its windows start off place
    _bug("conv_pool", "conv_backward_ignores_stride", {"seed": 0, "stride": 2},
         ("layers.0.W", "layers.0.b", "layers.2.W", "input"), "index", ("stride", "window", "index")),
]
