"""Results as HTML tables in a notebook: ``_repr_html_`` of the results model.

Rendered from the same Jinja2 environment and filters as the HTML report (autoescape on, no
user text marked safe). Importing this module registers the renderers in
:data:`gradcheck.results.HTML_RENDERERS` (``gradcheck/__init__`` does); Jinja2 itself is
imported only when a notebook first displays a result.
"""

from __future__ import annotations

from typing import Any

from gradcheck.results import HTML_RENDERERS, GradientCheckResult, ProbeResult, SuiteResult

_KINDS = {GradientCheckResult: "gradient_check", ProbeResult: "probe", SuiteResult: "suite"}


def to_html(result: Any) -> str:
    """A compact HTML table of a GradientCheckResult, ProbeResult or SuiteResult."""
    from gradcheck.render.templating import environment

    kind = _KINDS[type(result)]
    return environment().get_template("notebook.html").render(kind=kind, data=result.to_dict())


for _type in _KINDS:
    HTML_RENDERERS[_type] = to_html
