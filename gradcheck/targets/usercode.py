"""The one guarded call into a user's code, and the finding its exception becomes.

When the user's ``gradients()`` or ``backward`` raises, that is usually the bug being looked
for (a transposed ``dW`` meeting a broadcast), so it is reported as a failed check that
points at the user's own file and line, with the shapes of the arrays on that line.
"""

from __future__ import annotations

import linecache
import os
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from types import TracebackType
from typing import Any

import numpy as np

from gradcheck.errors import GradcheckError, UserCodeError
from gradcheck.results.findings import Finding

#: Frames in these packages are ours or numpy's, never the line a user should look at.
_NOT_USER = (os.path.dirname(os.path.abspath(np.__file__)) + os.sep,
             os.path.dirname(os.path.abspath(__file__)) + os.sep)
#: At most this many arrays are named in a crash's hint.
MAX_SHAPES = 6
_NAME = re.compile(r"\b([A-Za-z_]\w*)(?:\.([A-Za-z_]\w*))?")


@dataclass(frozen=True)
class Crash:
    """Where and how a user's function raised.

    Attributes
    ----------
    call : str
        Which user function raised: ``"gradients"``, ``"backward"``, ``"forward"``, ``"loss"``.
    error_type, message : str
        The exception's class name and text.
    file, line, function, code : location in the user's code (None when every frame was
        gradcheck's or numpy's, e.g. a builtin that raised directly).
    shapes : dict
        Array name on that line -> shape, e.g. ``{"dW": (784, 10), "X": (20, 784)}``.
    """

    call: str
    error_type: str
    message: str
    file: str | None = None
    line: int | None = None
    function: str | None = None
    code: str | None = None
    shapes: dict[str, tuple] = field(default_factory=dict)

    @property
    def where(self) -> str:
        """``file:line``, the file relative to the working directory when it is under it."""
        if self.file is None:
            return ""
        try:
            shown = os.path.relpath(self.file)
        except ValueError:  # another drive on Windows
            shown = self.file
        return f"{self.file if shown.startswith('..') else shown}:{self.line}"

    def finding(self, subject: str) -> Finding:
        """A failing ``exception`` finding in the fixed format, with the location as its hint."""
        at = f" at {self.where}" if self.file else ""
        text = f"{subject}: raised {self.error_type}: {self.message}{at}"
        if self.file:
            arrays = ", ".join(f"{n} {tuple(s)}" for n, s in self.shapes.items())
            hint = (f"Line {self.line} of {os.path.basename(self.file)}, in {self.function}(): "
                    f"{self.code or '(source not available)'}"
                    + (f" — arrays there: {arrays}." if arrays else "."))
        else:
            hint = f"Call {self.call} yourself on the same batch to see the full traceback."
        return Finding(kind="exception", subject=subject, text=text, hint=hint,
                       data={"call": self.call, "error_type": self.error_type,
                             "error": self.message, "file": self.file, "line": self.line,
                             "function": self.function,
                             "shapes": {n: list(s) for n, s in self.shapes.items()}})


def _is_user_file(filename: str) -> bool:
    path = os.path.abspath(filename)
    return not filename.startswith("<frozen") and not path.startswith(_NOT_USER)


def _user_frame(tb: TracebackType | None):
    """The innermost traceback entry in the user's code: (frame, line number) or None."""
    found = None
    while tb is not None:
        if _is_user_file(tb.tb_frame.f_code.co_filename):
            found = (tb.tb_frame, tb.tb_lineno)
        tb = tb.tb_next
    return found


def _shapes_on_line(code: str, local_vars: dict[str, Any]) -> dict[str, tuple]:
    """Shapes of the arrays a line names: locals (``dW``) and their attributes (``self.W``)."""
    shapes: dict[str, tuple] = {}
    for name, attr in _NAME.findall(code):
        value = local_vars.get(name)
        label = name
        if attr:
            value, label = getattr(value, attr, None), f"{name}.{attr}"
        if isinstance(value, np.ndarray) and label not in shapes:
            shapes[label] = tuple(value.shape)
        if len(shapes) >= MAX_SHAPES:
            break
    return shapes


def describe(exc: BaseException, call: str) -> Crash:
    """A :class:`Crash` for ``exc``, located at its innermost frame in the user's code."""
    located = _user_frame(exc.__traceback__)
    if located is None:
        return Crash(call, type(exc).__name__, str(exc))
    frame, lineno = located
    filename = frame.f_code.co_filename
    code = linecache.getline(filename, lineno).strip() or None
    shapes = _shapes_on_line(code, dict(frame.f_locals)) if code else {}
    return Crash(call, type(exc).__name__, str(exc), filename, lineno, frame.f_code.co_name,
                 code, shapes)


class UserCodeCrash(UserCodeError):
    """The user's function raised; ``crash`` says where, ``__cause__`` is the original.

    ``during`` says which call it was, e.g. ``"call 12, while perturbing W1[3, 7]"``.
    """

    def __init__(self, crash: Crash, restored: str = "the parameters have been restored",
                 during: str = ""):
        self.crash = crash
        at = f" at {crash.where}" if crash.file else ""
        when = f" ({during})" if during else ""
        if crash.error_type == "SystemExit":  # the message already says what the call did
            text = f"{crash.message}{when}"
        else:
            text = f"the {crash.call} function raised {crash.error_type}: {crash.message}{at}{when}"
        super().__init__(f"{text}; {restored}", call=during or crash.call)


def exit_message(exc: SystemExit, call: str) -> str:
    """``the network called sys.exit(0) in loss, model.py line 12``."""
    from gradcheck.targets.loading import exit_call, exit_site

    return f"the network called {exit_call(exc)} in {call}, {exit_site(exc)}"


def describe_exit(exc: SystemExit, call: str) -> Crash:
    """A :class:`Crash` for a ``sys.exit()`` in the user's ``call``: a target must not end the run."""
    crash = describe(exc, call)
    return Crash(call, "SystemExit", exit_message(exc, call) + "; a network must not end the "
                 "process: remove the call, or put the script part under "
                 "`if __name__ == \"__main__\":`", crash.file, crash.line, crash.function,
                 crash.code, crash.shapes)


def call_user(function: Callable, *args: Any, call: str, during: Callable[[], str] | None = None) -> Any:
    """``function(*args)``: every call gradcheck makes into user code goes through here.

    An Exception in it becomes :class:`UserCodeCrash` (chained), naming ``call`` (``"loss"``,
    ``"gradients"``, ``"forward"``...), the user's file and line, and ``during()`` (which call it
    was, asked only when it raised). A ``sys.exit()`` (SystemExit) in the user's code becomes one
    too: a check never ends the process with the exit status the user's code chose.
    KeyboardInterrupt and other non-Exception errors propagate unchanged, and so does a
    :class:`~gradcheck.errors.GradcheckError`: an adapter saying the code does not fit the
    protocol (a loss object with no way to compute the loss) is a target gradcheck could not
    check, never a failure of the network, in every command.
    """
    try:
        return function(*args)
    except UserCodeCrash:  # already located, by a guarded call inside this one
        raise
    except GradcheckError:  # the adapter's own verdict on the target: could not check
        raise
    except SystemExit as exc:
        raise UserCodeCrash(describe_exit(exc, call), during=during() if during else "") from exc
    except Exception as exc:
        raise UserCodeCrash(describe(exc, call), during=during() if during else "") from exc


class Named:
    """A user function with the name messages give its calls: ``check_layer`` passes the
    layer's forward to ``check_gradients`` as the loss, and an exception in it must read "the
    forward function raised", not "the loss function"."""

    def __init__(self, function: Callable, name: str):
        self.function, self.call_name = function, name

    def __call__(self, *args: Any) -> Any:
        return self.function(*args)

