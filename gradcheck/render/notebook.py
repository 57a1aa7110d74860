"""Results as HTML tables in a notebook: ``_repr_html_`` of the results model.

Rendered from the same Jinja2 environment and filters as the HTML report (autoescape on, no
user text marked safe); names are shown as the terminal shows them (:func:`gradcheck.text.printable`)
and a long one wraps rather than widening the table. Importing this module registers the renderers in
:data:`gradcheck.results.HTML_RENDERERS` (``gradcheck/__init__`` does); Jinja2 itself is
imported only when a notebook first displays a result.
"""

from __future__ import annotations

from typing import Any

from gradcheck.results import HTML_RENDERERS, GradientCheckResult, ProbeResult, SuiteResult
from gradcheck.text import printable_text

_KINDS = {GradientCheckResult: "gradient_check", ProbeResult: "probe", SuiteResult: "suite"}


def to_html(result: Any) -> str:
    """A compact HTML table of a GradientCheckResult, ProbeResult or SuiteResult."""
    from gradcheck.render.templating import environment

    kind = _KINDS[type(result)]
    # names go through the printable filter; the rest (messages from user code) is escaped
    # here, as the report page is: no control character, bidi override or lone surrogate
    # reaches the notebook
    return printable_text(environment().get_template("notebook.html").render(
        kind=kind, data=result.to_dict()))


for _type in _KINDS:
    HTML_RENDERERS[_type] = to_html
