"""Hostile names: newlines, ANSI escapes, bidi overrides and lone surrogates are shown escaped."""

from __future__ import annotations

import unicodedata

import jinja2
import pytest

from gradcheck.text import printable, printable_text

HOSTILE = {
    "newline": ("W\nPASSED: all", r"'W\nPASSED: all'"),
    "carriage_return": ("W\rPASSED", r"'W\rPASSED'"),
    "ansi_colour": ("\x1b[32mW1\x1b[0m", r"'\x1b[32mW1\x1b[0m'"),
    "ansi_clear_screen": ("\x1b[2J\x1b[H", r"'\x1b[2J\x1b[H'"),
    "bell_and_nul": ("b\x07\x00", r"'b\x07\x00'"),
    "rtl_override": ("W\u202e1b", r"'W\u202e1b'"),
    "rtl_isolate": ("\u2067W\u2069", r"'\u2067W\u2069'"),
    "lone_surrogate": ("W\udc80", r"'W\udc80'"),
    "line_separator": ("W\u2028b", r"'W\u2028b'"),
    "tab": ("W\t1", r"'W\t1'"),
}
ALL_BIDI = [chr(c) for c in [*range(0x202A, 0x202F), *range(0x2066, 0x206A)]]


@pytest.mark.parametrize("name, shown", HOSTILE.values(), ids=HOSTILE.keys())
def test_hostile_names_are_shown_escaped_on_one_line(name, shown):
    out = printable(name)
    assert out == shown
    assert out.isprintable()
    out.encode("utf-8")  # a lone surrogate no longer breaks encoding


@pytest.mark.parametrize("ch", ALL_BIDI, ids=[f"U+{ord(c):04X}" for c in ALL_BIDI])
def test_every_bidi_control_is_escaped(ch):
    assert ch not in printable(f"a{ch}b")
    assert ch not in printable_text(f"a{ch}b")


@pytest.mark.parametrize("name", ["W1", "b", "layer.0.weight", "Ŵ₁", "权重", "W 1", "δ", "a\\nb"])
def test_ordinary_names_are_unchanged(name):
    assert printable(name) == name


def test_non_strings_are_shown_by_str():
    assert printable(3) == "3"
    assert printable(("W", 1)) == "('W', 1)"


def test_messages_keep_their_lines_and_lose_their_escapes():
    message = "loss raised ValueError:\n\x1b[31mbad\x1b[0m \u202eshape\udc80"
    out = printable_text(message)
    assert out == "loss raised ValueError:\n\\x1b[31mbad\\x1b[0m \\u202eshape\\udc80"
    assert all(line.isprintable() for line in out.split("\n"))
    assert printable_text("a\nb", keep_newlines=False) == "a\\nb"
    assert printable_text("plain") == "plain"


@pytest.mark.parametrize("name", [v[0] for v in HOSTILE.values()], ids=HOSTILE.keys())
def test_escaped_names_render_in_an_autoescaped_page(name):
    page = jinja2.Environment(autoescape=True).from_string("<td>{{ name }}</td>").render(
        name=printable(name))
    page.encode("utf-8")
    assert not any(unicodedata.category(ch) in ("Cc", "Cf", "Cs") for ch in page)
