"""The exception tree of gradcheck.

Every error gradcheck raises on purpose is a :class:`GradcheckError`. The command
line maps any of them to exit code 2 ("the target could not be loaded or used").

Messages follow one pattern: what was received, what was expected, what to do.
"""

from __future__ import annotations

from gradcheck.wording import words


class GradcheckError(Exception):
    """Base class of every error gradcheck raises on purpose."""


class InvalidArgumentError(GradcheckError, TypeError, ValueError):
    """An argument passed to a public function has the wrong type, shape or value.

    It is both a ``TypeError`` and a ``ValueError`` so that callers who catch the
    builtin they expect still catch it.

    Parameters
    ----------
    argument : str
        Name of the offending argument as the caller wrote it, e.g. ``"params['W1']"``.
    problem : str
        What was received and what was expected.
    fix : str, optional
        One sentence saying what to do instead.
    """

    def __init__(self, argument: str, problem: str, fix: str = ""):
        self.argument = argument
        self.problem = problem
        self.fix = fix
        text = f"{words().argument(argument)}: {problem}"
        if fix:
            # two sentences: the problem ends with its own full stop before the fix begins
            text += ("" if problem.rstrip().endswith((".", "!", "?", ".)")) else ".") + f" {fix}"
        super().__init__(text)


class CheckTooSlowError(InvalidArgumentError):
    """The requested check would take longer than ``max_seconds``; nothing was run.

    Raised before any finite difference, from the time of one loss evaluation times the
    number of evaluations the mode needs. ``argument`` is ``"mode"``.

    Attributes
    ----------
    estimated_seconds : float
        Estimated duration of the whole check.
    evaluations : int
        Loss evaluations the check would make.
    seconds_per_evaluation : float
        Measured time of one loss evaluation.
    """

    def __init__(self, argument: str, problem: str, fix: str = "", *, estimated_seconds: float = 0.0,
                 evaluations: int = 0, seconds_per_evaluation: float = 0.0):
        super().__init__(argument, problem, fix)
        self.estimated_seconds = estimated_seconds
        self.evaluations = evaluations
        self.seconds_per_evaluation = seconds_per_evaluation


class TargetError(GradcheckError):
    """A network under test could not be loaded or used."""


class TargetLoadError(TargetError):
    """The target specification (``module:attr``, ``path.py:attr``) could not be loaded."""


class ProtocolError(TargetError):
    """The target is missing a protocol method or returned a value of the wrong type."""


class UserCodeError(GradcheckError):
    """The user's own function raised while gradcheck was calling it.

    The original exception is chained as ``__cause__``; ``call`` says which call
    (e.g. ``"loss() at W1[3, 7] + eps"``) so the user can reproduce it.
    """

    def __init__(self, message: str, *, call: str = ""):
        self.call = call
        super().__init__(message)


class ReportWriteError(GradcheckError, OSError):
    """A report or JSON file could not be written; nothing was left half written."""
