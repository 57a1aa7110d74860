"""The checker against the zoo: every defect is caught, on the right parameter, with the right kind."""

import json

import numpy as np
import pytest

from gradcheck import check_gradients
from reference_net import blog
from tests.zoo import blog_article
from tests.zoo.networks import DEFECTS, Correct


def _check(net, **options):
    return check_gradients(net.loss, net.params, net.gradients, batch_size=net.m, **options)


@pytest.mark.parametrize("mode", ["full", "sample", "directional"])
def test_correct_network_passes(mode):
    result = _check(Correct(), mode=mode, samples=8)
    assert result.passed, str(result)
    assert result.failed == []
    assert not [f for f in result.findings if f.is_failure]


@pytest.mark.parametrize("defect", list(DEFECTS), ids=lambda cls: cls.__name__)
def test_defect_is_named_and_diagnosed(defect):
    net = defect()
    before = {name: arr.copy() for name, arr in net.params.items()}
    result = _check(net)
    expected = DEFECTS[defect]
    assert not result.passed
    assert sorted(result.failed) == sorted(expected)
    for name, kind in expected.items():
        kinds = [f.kind for f in result[name].findings if f.is_failure]
        assert kinds and kinds[0] == kind, (name, kinds, str(result))
    for name, arr in net.params.items():
        if defect.__name__ not in {"LossMutatesParams", "BackwardUpdatesParams"}:
            np.testing.assert_array_equal(arr, before[name])
    json.dumps(result.to_dict(), allow_nan=False)


def test_missing_one_over_m_names_the_batch_size():
    result = _check(DEFECTS and __import__("tests.zoo.networks", fromlist=["x"]).MissingOneOverM())
    finding = result["W1"].findings[0]
    assert finding.data["factor"] == pytest.approx(8)
    assert "missing 1/m" in finding.message


def test_nondeterministic_loss_is_a_whole_check_finding():
    from tests.zoo.networks import DropoutRedrawnEachCall

    net = DropoutRedrawnEachCall()
    result = _check(net)
    assert not result.passed
    assert [f.kind for f in result.findings] == ["nondeterministic"]
    assert result.n_loss_evals == 2


@pytest.mark.parametrize("mode", ["full", "directional"])
def test_directional_catches_what_full_catches(mode):
    for defect, expected in DEFECTS.items():
        if defect.__name__ in {"OneEntryOff"}:
            continue  # one entry among many barely moves a random projection; full mode's job
        result = _check(defect(), mode=mode)
        assert sorted(result.failed) == sorted(expected), defect.__name__


def test_first_article_backward_is_diagnosed_as_reduction():
    params, X, Y = blog_article.make_problem()
    loss = lambda: blog_article.cross_entropy(params, X, Y)  # noqa: E731
    result = check_gradients(loss, params, lambda: blog_article.article_gradients(params, X, Y),
                             batch_size=Y.size)
    assert sorted(result.failed) == ["b1", "b2"]
    for name in ("b1", "b2"):
        finding = result[name].findings[0]
        assert finding.kind == "reduction"
        assert "sum of the correct gradients" in finding.message
        assert "axis" in finding.hint


def test_corrected_article_backward_passes():
    params, X, Y = blog_article.make_problem()
    loss = lambda: blog.cross_entropy(blog.forward_propagation(*params.values(), X)[3], Y)  # noqa: E731

    def grads():
        p = params
        cache = blog.forward_propagation(p["W1"], p["b1"], p["W2"], p["b2"], X)
        return dict(zip(["W1", "b1", "W2", "b2"], blog.backward_propagation(*cache, p["W2"], X, Y)))

    result = check_gradients(loss, params, grads)
    assert result.passed, str(result)
