"""Whole models with structured labels: captions (N, T) of integers with a null word padding their
ends, token inputs; the sequence task and the input spec, so nothing is guessed from the first
2-D parameter."""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pytest

import gradcheck
from gradcheck.adapters import cache_model
from gradcheck.config import CheckConfig
from gradcheck.engine import run_suite
from gradcheck.errors import InvalidArgumentError, ProtocolError
from gradcheck.targets.batches import synthetic_batch
from gradcheck.targets.inputs import input_spec
from gradcheck.targets.protocol import as_target
from gradcheck.targets.tasks import Task

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "examples"))
from _captioning_style import CaptioningRNN  # noqa: E402

GRADIENTS = ("gradients",)


def test_sequence_labels_are_words_with_padded_ends():
    task = Task("sequence", 12, False, True, length=7, null_token=0)
    y = task.labels(50, np.random.default_rng(0))
    assert y.shape == (50, 7) and y.dtype == np.int64 and y.min() >= 0 and y.max() < 12
    assert np.all(y[:, :2] != 0)  # every caption has at least two words
    padded = y == 0
    assert padded[0, -1] and padded.any(axis=1).sum() > 1
    assert np.all(np.diff(padded.astype(int), axis=1) >= 0)  # padding only at the end
    assert task.label_text() == "(n, 7) integers 0..11, ends padded with 0"
    assert task.labels(4, np.random.default_rng(0), layout="columns").shape == (7, 4)


def test_a_captioning_model_gets_its_features_and_captions_and_passes():
    target = as_target(CaptioningRNN())
    X, y, layout = synthetic_batch(target, 5, seed=0)
    assert X.shape == (5, 10) and X.dtype == np.float64 and y.shape == (5, 7) and layout == "rows"
    suite = run_suite(target, CheckConfig(), groups=GRADIENTS)
    assert suite.verdict.status == "passed", suite.verdict.headline
    assert suite["check_gradients_batch_missing_classes"].status == "skipped"


def test_a_captioning_model_passes_in_float32():
    config = CheckConfig(dtype="float32")
    suite = run_suite(CaptioningRNN(dtype=np.float32), config, groups=GRADIENTS)
    assert suite.verdict.status == "passed", suite.verdict.headline


def test_an_embedding_gradient_that_loses_repeated_words_is_found():
    suite = run_suite(CaptioningRNN(bug="embedding_assigned"), CheckConfig(), groups=GRADIENTS)
    assert suite.verdict.status == "failed" and suite.verdict.wrong_gradients == ("W_embed",)


class CacheCaptioner:
    """The same model in the cache-pair style: ``loss(features, captions) -> (loss, grads)``, its
    ``_null`` word kept on the model, nothing declared."""

    def __init__(self):
        self._model = CaptioningRNN()
        self.params = self._model.params
        self._null = 0

    def loss(self, features, captions):
        return self._model.loss(features, captions), self._model.gradients(features, captions)


def test_a_cache_style_captioner_is_declared_through_the_adapter():
    model = CacheCaptioner()
    target = cache_model(model, task="sequence", sequence_length=7, null_token=model._null,
                         input_spec={"shape": (10,)})
    suite = run_suite(target, CheckConfig(), groups=GRADIENTS)
    assert suite.verdict.status == "passed", suite.verdict.headline
    with pytest.raises(InvalidArgumentError, match="Pass task='sequence' with them"):
        cache_model(model, sequence_length=7)


def test_without_the_task_class_labels_meet_the_captions_and_the_checks_say_what_the_loss_did():
    suite = run_suite(cache_model(CacheCaptioner()), CheckConfig(), groups=GRADIENTS)
    assert suite.verdict.status == "not_checked"
    assert "IndexError: too many indices" in suite["check_gradients_batch1"].error


class TokenModel:
    """A language model's last layers: token inputs (n, T) embedded, scored over the vocabulary,
    each next token's cross-entropy summed over the steps and averaged over the examples."""

    task, layout, sequence_length = "sequence", "rows", 5
    input_spec = {"shape": (5,), "dtype": "int", "vocab": 9}

    def __init__(self, bug=None):
        rng = np.random.default_rng(1)
        self.params = {"W_embed": rng.standard_normal((9, 4)), "W_out": 0.5 * rng.standard_normal((4, 9)),
                       "b_out": np.zeros(9)}
        self.bug = bug

    def _log_p(self, X):
        h = np.tanh(self.params["W_embed"][X])
        scores = h @ self.params["W_out"] + self.params["b_out"]
        scores = scores - scores.max(axis=2, keepdims=True)
        return h, scores - np.log(np.exp(scores).sum(axis=2, keepdims=True))

    def loss(self, X, y):
        _, log_p = self._log_p(X)
        return -np.take_along_axis(log_p, y[..., None], axis=2).sum() / X.shape[0]

    def gradients(self, X, y):
        h, log_p = self._log_p(X)
        d = np.exp(log_p)
        np.put_along_axis(d, y[..., None], np.take_along_axis(d, y[..., None], axis=2) - 1, axis=2)
        d /= X.shape[0]
        dh = d @ self.params["W_out"].T * (1 - h ** 2)
        dW_embed = np.zeros_like(self.params["W_embed"])
        np.add.at(dW_embed, X, dh)
        if self.bug == "db_mean":
            return {"W_embed": dW_embed, "W_out": np.einsum("ntd,ntv->dv", h, d), "b_out": d.mean(axis=(0, 1))}
        return {"W_embed": dW_embed, "W_out": np.einsum("ntd,ntv->dv", h, d), "b_out": d.sum(axis=(0, 1))}


def test_a_model_of_token_inputs_gets_integer_inputs_and_no_input_scale_probe():
    X, y, _ = synthetic_batch(as_target(TokenModel()), 4, seed=0)
    assert X.dtype == np.int64 and X.shape == (4, 5) and X.max() < 9 and y.shape == (4, 5)
    suite = run_suite(TokenModel(), CheckConfig(mode="sample"))
    assert suite.verdict.status == "passed", suite.verdict.headline
    assert suite["check_training_input_scale"].status == "skipped"
    assert run_suite(TokenModel("db_mean"), CheckConfig(), groups=GRADIENTS).verdict.wrong_gradients == ("b_out",)


def test_a_models_own_example_batch_of_captions_is_used():
    class WithExamples(CaptioningRNN):
        def example_batch(self):
            rng = np.random.default_rng(3)
            return rng.normal(size=(6, 10)), rng.integers(1, 12, size=(6, 7))

    suite = run_suite(WithExamples(), CheckConfig(), groups=GRADIENTS)
    assert suite.verdict.status == "passed", suite.verdict.headline


@pytest.mark.parametrize(("spec", "said"), [
    ([20], "expected a dict such as"),
    ({"shape": (20,), "size": 3}, r"unknown keys \['size'\]"),
    ({"shape": (0,)}, "expected one example's shape"),
    ({"shape": (5,), "dtype": "int"}, "expected the number of tokens"),
    ({"shape": (5,), "dtype": "str"}, "expected 'float' or 'int'"),
    ({"shape": (5,), "vocab": 3}, "has a vocab but dtype 'float'"),
])
def test_a_malformed_input_spec_says_what_is_expected(spec, said):
    with pytest.raises(ProtocolError, match=said):
        input_spec(type("T", (), {"input_spec": spec})())


@pytest.mark.parametrize(("changes", "said"), [
    ({"sequence_length": None}, "give it the number of steps T"),
    ({"null_token": 40}, "expected a word 0..11"),
])
def test_a_sequence_task_without_its_length_or_with_a_foreign_null_says_so(changes, said):
    model = CaptioningRNN()
    for name, value in changes.items():
        setattr(model, name, value)
    with pytest.raises(ProtocolError, match=said):
        run_suite(model, CheckConfig(), groups=GRADIENTS)


def test_the_examples_check_from_the_command_line(capsys):
    from gradcheck.frontends.cli import main

    examples = Path(__file__).resolve().parents[2] / "examples"
    assert main(["check", str(examples / "captioning_correct.py"), "--mode", "sample"]) == 0
    assert main(["check", str(examples / "captioning_buggy.py")]) == 1
    assert "wrong gradient for W_embed" in capsys.readouterr().out
    assert gradcheck.adapters.cache_model is cache_model
