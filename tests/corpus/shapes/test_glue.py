"""Each shape of the corpus plugged in with its glue (``glue.py``): at most 10 lines, no false
alarm on a correct build in any mode or probe, every bug flagged on exactly its parameters."""

import ast
import inspect
import textwrap

import numpy as np
import pytest

from gradcheck import run_suite
from gradcheck.config import CheckConfig
from gradcheck.engine import Context, iter_checks
from tests.corpus.shapes import glue
from tests.corpus.shapes.catalogue import BUGS, CORRECT

#: The glue's budget, in lines of code.
MAX_GLUE_LINES = 10
#: The first correct build of each module in float64, and the transformer in float32, the dtype
#: it is written for (every build in both dtypes is checked through the harness by
#: test_shapes_corpus.py).
FIRST = [(next(c for c in CORRECT if c.module == m), np.float64) for m in glue.GLUE] + [
    (next(c for c in CORRECT if c.module == "transformer"), np.float32),
    # a squared error at every step: labels (n, T, k) of floats
    (next(c for c in CORRECT if c.builder_kwargs.get("loss") == "mse"), np.float64)]


def glue_lines(function) -> int:
    """Lines of code in a function's body: its docstring, comments and blank lines left out."""
    tree = ast.parse(textwrap.dedent(inspect.getsource(function)))
    body = tree.body[0].body
    if body and isinstance(body[0], ast.Expr) and isinstance(body[0].value, ast.Constant):
        body = body[1:]
    lines = set()
    for statement in body:
        lines.update(range(statement.lineno, statement.end_lineno + 1))
    return len(lines)


@pytest.mark.parametrize("module", list(glue.GLUE))
def test_the_glue_is_at_most_ten_lines(module):
    assert 1 <= glue_lines(glue.GLUE[module]) <= MAX_GLUE_LINES


def test_the_line_count_counts_code_not_its_docstring_or_comments():
    def three(a):
        """A docstring."""
        # a comment
        b = a + 1
        return (b,
                a)

    assert glue_lines(three) == 3


@pytest.mark.parametrize("mode", ["full", "sample", "directional"])
@pytest.mark.parametrize("config, dtype", FIRST, ids=[f"{c.id}-{np.dtype(d).name}" for c, d in FIRST])
def test_a_correct_build_passes_every_check_and_probe(config, dtype, mode):
    suite = run_suite(glue.target(config, dtype), mode=mode)
    failing = {o.name: o.error or o.to_dict().get("result", {}).get("failed")
               for o in suite.outcomes if o.status in ("failed", "error")}
    assert not failing
    assert suite.verdict.status in ("passed", "inconclusive")


def test_an_lstm_with_a_squared_error_at_every_step_gets_float_labels_per_step():
    config = next(c for c in CORRECT if c.builder_kwargs.get("loss") == "mse")
    target = glue.target(config, np.float64)
    ctx = Context(target, CheckConfig())
    assert (ctx.task.name, ctx.task.length, ctx.task.n_outputs) == ("regression", 3, 3)
    X, y = ctx.batch(4)
    assert X.shape == (4, 3, 2) and y.shape == (4, 3, 3) and y.dtype == np.float64
    described = {check.name: check.description for check in iter_checks(target, groups=("gradients",))}
    assert "regression, labels (n, 3, 3) floats" in described[f"check_gradients_batch{ctx.batch_size}"]
#: The bugs of the networks made of layer objects: each layer is checked on its own too.
LAYERED = [bug for bug in BUGS if hasattr(glue.target(bug, np.float64, bug.name), "layers")]


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("bug", LAYERED, ids=[b.id for b in LAYERED])
def test_a_layer_checked_on_its_own_names_the_jacobian_exactly_when_that_is_the_bug(bug, dtype):
    target = glue.target(bug, dtype, bug.name)
    layer_checks = [check for check in iter_checks(target, groups=("gradients",))
                    if check.subject and check.subject != "network"]
    assert layer_checks
    kinds = {f.kind for check in layer_checks for f in check.outcome().result.findings if f.is_failure}
    assert ("jacobian" in kinds) == (bug.cause == "jacobian")
