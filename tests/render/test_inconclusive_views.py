"""What could not be judged shows in every view: the terminal's default output (not only under
``-v``), the HTML page (its own colour in the banner, the check's badge and its own tier of cards)
and the notebook."""

import html

from gradcheck.render.html_report import render_html
from gradcheck.render.terminal import format_suite
from tests.render import samples


def test_the_terminal_shows_what_could_not_be_judged_without_verbose():
    text = format_suite(samples.inconclusive_suite())
    lines = text.splitlines()
    check = next(line for line in lines if "check_gradients_batch8" in line)
    assert check.startswith("INCONCLUSIVE check_gradients_batch8")
    assert any(line.strip().startswith("?? W1: none of its 160 entries could be judged") for line in lines)
    assert any("float64 would judge them" in line for line in lines)
    assert lines[-1].startswith("INCONCLUSIVE: could not judge W1")


def test_the_page_has_an_inconclusive_banner_badge_and_cards():
    page = render_html(samples.inconclusive_suite())
    assert 'class="verdict inconclusive"' in page
    assert ">INCONCLUSIVE</span>" in page
    assert 'class="tier undecided"' in page and "Could not judge (1)" in page
    assert '<span class="badge undecided">not judged</span>' in page
    assert html.escape("could not judge W1 (check_gradients_batch8)", quote=False) in page


def test_the_notebook_view_says_inconclusive_in_its_colour():
    view = samples.inconclusive_suite()._repr_html_()
    assert "#9a6700" in view and "INCONCLUSIVE" in view
