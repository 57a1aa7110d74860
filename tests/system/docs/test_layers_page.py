"""docs/layers.md against fresh runs: its pasted sessions, its table of layer kinds (every kind of
the corpus, with the example arguments gradcheck gives), and its numbers."""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np

import gradcheck
from gradcheck.adapters.function_pairs import make_layer
from gradcheck.adapters.layer_examples import KINDS, default_arguments
from tests.corpus.layers import course_layers, dict_style
from tests.corpus.layers.catalogue import BUGS, LAYERS
from tests.system.docs.test_readme import at_root, matches_with_elisions, run_cli  # noqa: F401 - fixture

ROOT = Path(__file__).resolve().parents[3]
PAGE = (ROOT / "docs" / "layers.md").read_text(encoding="utf-8")


def _block(first_line: str) -> str:
    match = re.search(r"```\n(" + re.escape(first_line) + r"\n.*?)```", PAGE, re.S)
    assert match, f"docs/layers.md has no block starting {first_line!r}"
    return match.group(1)


def _table_rows() -> dict[str, str]:
    section = PAGE[PAGE.index("| kind | forward, then what the backward returns"):]
    rows = [line for line in section.split("\n\n")[0].splitlines()[2:]]
    return {row.strip("| ").split(" | ")[0].split(" (")[0]: row for row in rows}


def test_the_pasted_check_of_the_buggy_layers_is_what_the_command_prints(capsys, at_root):  # noqa: F811
    pasted = _block("$ gradcheck check examples/course_layers_buggy.py")
    code, out, _ = run_cli(capsys, "gradcheck check examples/course_layers_buggy.py")
    assert code == 1
    assert matches_with_elisions(pasted.split("\n", 1)[1], out), out


def test_the_pasted_failing_cell_is_what_the_command_says(capsys, at_root):  # noqa: F811
    pasted = _block("$ gradcheck check tests/corpus/layers/broken_cell.ipynb")
    code, _, err = run_cli(capsys, "gradcheck check tests/corpus/layers/broken_cell.ipynb")
    assert code == 2 and err.strip() == pasted.split("\n", 1)[1].strip()


def test_the_table_has_every_kind_of_the_corpus_with_its_functions_and_example_shapes():
    rows = _table_rows()
    assert list(rows) == list(LAYERS) and set(rows) <= set(KINDS)
    for kind, row in rows.items():
        layer = LAYERS[kind]
        assert f"= {layer.forward.__name__}(" in row, kind
        module = dict_style if layer.style == "dict" else course_layers
        assert getattr(module, layer.forward.__name__) is layer.forward
        names = list(layer.example_args(0, np.float64))
        given = default_arguments(kind, names, seed=0, dtype=np.float64)
        for name, shape in re.findall(r"\b(\w+) \((\d+(?:, \d+)*,?)\)", row.split(" | ")[-1]):
            if name in given:
                expected = tuple(int(s) for s in shape.rstrip(",").split(", "))
                assert given[name].shape == expected, (kind, name)


def test_the_numbers_of_the_page_are_measured():
    assert f"writes {len(BUGS)} bugs into these {len(LAYERS)} kinds" in " ".join(PAGE.split())
    results = [gradcheck.check_function_layer(make_layer(b.forward, b.backward, name=b.kind)) for b in BUGS]
    assert all(set(r.failed) == set(b.wrong) for r, b in zip(results, BUGS))
    named = sum(bool({f.kind for f in r.findings if f.is_failure} - {"mismatch"}) for r in results)
    assert f"for {named} of the {len(BUGS)};" in " ".join(PAGE.split())


def test_the_captioning_quote_is_what_the_check_says(capsys, at_root):  # noqa: F811
    code, out, _ = run_cli(capsys, "gradcheck check examples/captioning_buggy.py")
    quote = re.search(r'W_embed "([^"]+)"', PAGE).group(1)
    assert code == 1 and quote in out
