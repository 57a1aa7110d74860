"""`gradcheck probe` and `gradcheck report`: verdicts, exit codes and the files they write."""

import json
from pathlib import Path

import pytest

from gradcheck.frontends.cli import main

EXAMPLES = Path(__file__).resolve().parents[3] / "examples"
BUGGY = f"{EXAMPLES / 'blog_buggy.py'}:target"
FIXED = f"{EXAMPLES / 'blog_fixed.py'}:target"


def test_probe_reference_network_passes_every_probe(capsys, tmp_path):
    assert main(["probe", "--batch-size", "32", "--json", str(tmp_path / "p.json")]) == 0
    out = capsys.readouterr().out
    assert "PASSED: all" in out
    data = json.loads((tmp_path / "p.json").read_text())
    assert data["kind"] == "suite" and data["passed"]
    checks = [c["name"] for c in data["checks"]]
    # the reference network can be rebuilt in float32, so the precision probe runs
    assert "check_precision_float32" in checks
    assert "check_training_input_scale" in checks


def test_probe_blog_article_names_the_breaking_magnitudes(capsys):
    assert main(["probe", BUGGY]) == 1
    out = capsys.readouterr().out
    assert "logits of magnitude 711" in out
    assert "input scale[255]: first non-finite value is the activation of A2 at step 0" in out
    assert "b1: db1 is a single number (shape ()) but b1 has shape (10, 1); it was reduced over every axis" in out
    assert out.rstrip().splitlines()[-1] == ("FAILED: 3 of 7 stability probes failed: softmax, "
                                             "shapes, input scale")


def test_probe_fixed_blog_passes(capsys):
    assert main(["probe", FIXED]) == 0


@pytest.mark.slow
def test_report_writes_one_html_page_and_its_json(capsys, tmp_path):
    page, data = tmp_path / "deep" / "blog.html", tmp_path / "blog.json"
    assert main(["report", BUGGY, "--mode", "directional", "-o", str(page),
                 "--json", str(data)]) == 1
    html = page.read_text(encoding="utf-8")
    assert '<span class="word">FAILED</span>' in html
    assert "(reduction)" in html and "input scale" in html
    report = json.loads(data.read_text())
    assert report["kind"] == "suite" and not report["passed"]  # the suite document, as check writes
    checks = {c["name"]: c["result"] for c in report["checks"]}
    assert checks["check_gradients_batch20"]["failed"] == ["b1", "b2"]
    assert "--mode directional" in report["environment"]["command"]
    last = capsys.readouterr().out.rstrip().splitlines()[-1]
    assert last == report["verdict"]["headline"] and last.startswith("FAILED: wrong gradient for W1")
    assert not list(tmp_path.glob("**/*.tmp"))  # no temporary file left behind


@pytest.mark.slow
def test_report_on_the_reference_network_includes_training_curves(capsys, tmp_path):
    page = tmp_path / "ref.html"
    data = tmp_path / "ref.json"
    assert main(["report", "--mode", "sample", "--epochs", "2", "-o", str(page),
                 "--json", str(data)]) == 0
    report = json.loads(data.read_text())
    assert set(report["training"]) == {"full batch", "mini-batch 64"}
    assert report["training"]["mini-batch 64"]["epoch"] == [1, 2]
    assert "Training loss" in page.read_text(encoding="utf-8")


def test_check_html_option_writes_a_report(capsys, tmp_path):
    page = tmp_path / "check.html"
    assert main(["check", FIXED, "--mode", "directional", "--html", str(page)]) == 0
    assert '<span class="word">PASSED</span>' in page.read_text(encoding="utf-8")


def test_report_into_an_unwritable_place_is_exit_code_2(capsys, tmp_path):
    blocker = tmp_path / "file.txt"
    blocker.write_text("not a directory")
    assert main(["report", FIXED, "--mode", "directional", "-o",
                 str(blocker / "sub" / "r.html")]) == 2
    assert "cannot write a report" in capsys.readouterr().err
    assert blocker.read_text() == "not a directory"


def test_negative_epochs_is_exit_code_2(capsys):
    assert main(["report", "--epochs", "-1"]) == 2
    assert "--epochs" in capsys.readouterr().err


def test_max_seconds_refuses_a_full_check_that_would_be_too_slow(capsys):
    assert main(["check", FIXED, "--max-seconds", "1e-6"]) == 2
    err = capsys.readouterr().err
    assert "would take about" in err and "--max-seconds 0" in err and "--mode directional" in err
    assert "max_seconds" not in err and "mode=" not in err


def test_probe_names_each_unstable_function_and_where_it_breaks(capsys, tmp_path):
    data = tmp_path / "unstable.json"
    assert main(["probe", f"{EXAMPLES / 'unstable_functions.py'}:target", "--json", str(data)]) == 1
    probes = {c["name"]: c["result"] for c in json.loads(data.read_text())["checks"]}
    breaks = {name: p["breaking_magnitude"] for name, p in probes.items() if not p["passed"]}
    # naive exp overflows past 709.8; a stable softmax underflows to exactly 0 (log -> -inf) by
    # 500; a probability of exactly 1 appears in binary cross-entropy by logit 50
    assert breaks == {"check_softmax_stable": 711, "check_log_softmax_stable": 500,
                      "check_sigmoid_stable": 711, "check_cross_entropy_stable": 500,
                      "check_binary_cross_entropy_stable": 50}
    # the network itself is fine: the training probes pass
    assert all(p["passed"] for name, p in probes.items() if name.startswith("check_training"))
