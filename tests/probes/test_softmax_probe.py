import numpy as np
import pytest

from gradcheck.probes import probe_softmax
from reference_net.activations import softmax
from tests.probes.broken import batch_normalised_softmax, naive_softmax, wrong_axis_softmax


def raising_softmax(Z):
    raise RuntimeError("boom")


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_reference_softmax_passes(dtype):
    assert probe_softmax(softmax, dtype=dtype).passed


@pytest.mark.parametrize(("dtype", "low", "high"), [(np.float32, 88, 90), (np.float64, 709, 711)])
def test_naive_softmax_breaks_past_overflow(dtype, low, high):
    result = probe_softmax(naive_softmax, dtype=dtype)
    assert not result.passed
    assert low < result.breaking_magnitude <= high


@pytest.mark.parametrize(("fn", "kind"), [(batch_normalised_softmax, "not_normalized"),
                                          (wrong_axis_softmax, "wrong_axis"),
                                          (raising_softmax, "exception")])
def test_broken_softmax_kind(fn, kind):
    result = probe_softmax(fn)
    assert result.findings[0].kind == kind
    assert result.breaking_magnitude == 1.0


def test_exception_message_is_in_the_finding():
    assert "boom" in probe_softmax(raising_softmax).findings[0].message


def test_to_dict_turns_nan_into_none():
    result = probe_softmax(naive_softmax)
    assert None in result.to_dict()["series"]["max_abs_row_sum_error"]
