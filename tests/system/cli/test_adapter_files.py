"""A file whose target is built by an adapter (a tape with a declared vocabulary and sequence
length) runs in its own process and gets the same verdict, finding for finding, as the same
target checked in this one: its input spec crosses the boundary, and so do the outputs and the
backward from a given upstream gradient that the diagnosis of a sequence network asks for."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

import gradcheck
from gradcheck.frontends.cli import main
from gradcheck.results import SuiteResult
from tests.checks import tape_models

MODEL_SOURCE = Path(tape_models.__file__).read_text()


def _kinds(suite) -> dict:
    """check -> sorted (parameter, kind, how) of its failing findings."""
    return {o.name: sorted((f.subject.split("[")[0], f.kind, str(f.data.get("how")))
                           for f in getattr(o.result, "findings", ()) if f.is_failure)
            for o in suite.outcomes}


@pytest.mark.parametrize("bug", tape_models.BUGS)
def test_a_tape_target_in_a_file_gets_the_verdict_it_gets_in_process(tmp_path, capsys, bug):
    source = tmp_path / "model.py"
    source.write_text(MODEL_SOURCE + f"\n\nnetwork = target({bug!r})\n")
    json_path = tmp_path / "out.json"
    code = main(["check", f"{source}:network", "--json", str(json_path)])
    capsys.readouterr()
    assert code == 1
    in_file = SuiteResult.from_dict(json.loads(json_path.read_text()))
    here = gradcheck.run_suite(tape_models.target(bug), groups=("gradients",))
    assert _kinds(in_file) == _kinds(here)
    named = {kind for findings in _kinds(here).values() for _, kind, _ in findings}
    assert named & {"routing", "orientation"}  # the diagnosis of a sequence ran in both


CNN_SOURCE = Path(__file__).resolve().parents[2].joinpath("corpus", "shapes", "cnn_inplace.py").read_text()
CNN_GLUE = """

import gradcheck

net = build(seed=0, bug={bug!r})
network = gradcheck.adapters.in_place(net.train_step, loss=lambda image, label: net.forward(image, label)[1],
                                      input_shape=(8, 8), n_classes=10,
                                      layers=[net.conv, net.pool, net.softmax])
"""


@pytest.mark.parametrize("bug", [None, "maxpool_routes_to_every_entry"])
def test_an_in_place_cnn_with_its_layers_in_a_file_gets_the_verdict_it_gets_in_process(tmp_path, capsys, bug):
    """The first layer returns no input gradient: in its own process too its parameters are
    checked and its input is not, so the correct network passes and the pool's bug is the pool's."""
    from tests.corpus.shapes import cnn_inplace, glue

    source = tmp_path / "cnn.py"
    source.write_text(CNN_SOURCE + CNN_GLUE.format(bug=bug))
    json_path = tmp_path / "out.json"
    code = main(["check", f"{source}:network", "--json", str(json_path)])
    capsys.readouterr()
    assert code == (0 if bug is None else 1)
    in_file = SuiteResult.from_dict(json.loads(json_path.read_text()))
    here = gradcheck.run_suite(glue.cnn_inplace(cnn_inplace.build(seed=0, bug=bug)), groups=("gradients",))
    assert _kinds(in_file) == _kinds(here)
    assert [o.passed for o in in_file.outcomes] == [o.passed for o in here.outcomes]
