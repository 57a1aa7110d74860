"""Errors raised by reference_net. Each names the argument, what it got, what it expected."""


class ReferenceNetError(Exception):
    """Base class of reference_net's errors."""


class ShapeError(ReferenceNetError, ValueError):
    """An array has the wrong shape or dtype for the operation."""


class DataError(ReferenceNetError, ValueError):
    """A data file or array could not be used; the message names file, row and column."""


class NonFiniteError(ReferenceNetError, FloatingPointError):
    """A loss, activation or gradient turned NaN or inf during training.

    Attributes
    ----------
    step : int
        Optimiser step (0-based) at which the value appeared.
    layer : str
        Name of the layer (``"dense1"``, ``"relu1"``) or ``"loss"``.
    quantity : str
        ``"activation"``, ``"loss"`` or ``"gradient"``.
    """

    def __init__(self, *, step: int, layer: str, quantity: str, detail: str = ""):
        self.step, self.layer, self.quantity = step, layer, quantity
        text = f"step {step}: the {quantity} of {layer} is not finite (NaN or inf)"
        if detail:
            text += f"; {detail}"
        text += (
            ". Training stopped. Check that inputs are scaled to [0, 1] "
            "and that the learning rate is not too large."
        )
        super().__init__(text)
