"""Names and messages from user code, made safe to show in a terminal or a page.

A parameter name, a target label or an exception message comes from code gradcheck did not
write. Printed raw, ``"W\\nPASSED: all"`` forges a line of output, an ANSI escape recolours or
clears the terminal, a right-to-left override (U+202E) reorders the text around it, and a lone
surrogate cannot be encoded as UTF-8 at all. Renderers pass such text through :func:`printable`
(a name, shown as one token) or :func:`printable_text` (a message, newlines kept).
"""

from __future__ import annotations


def printable(name: object) -> str:
    """``name`` as it should appear on one line: unchanged when every character prints,
    otherwise its ``repr`` (quoted, with ``\\n``, ``\\x1b``, ``\\u202e``, ``\\udc80`` escaped),
    so what is shown is unambiguous and cannot be mistaken for gradcheck's own output.

    Examples
    --------
    >>> printable("W1"), printable("Ŵ₁")
    ('W1', 'Ŵ₁')
    >>> print(printable("W\\nPASSED: all"))
    'W\\nPASSED: all'
    """
    text = name if isinstance(name, str) else str(name)
    return text if text.isprintable() else repr(text)


def printable_text(text: object, *, keep_newlines: bool = True) -> str:
    """``text`` with every character that does not print replaced by its escape
    (``\\x1b``, ``\\t``, ``\\u202e``, ``\\udc80``), backslashes left as they are.

    For longer text such as an exception message from user code, where quoting the whole
    would be noise. Newlines are kept (``keep_newlines=False`` escapes them too), so a
    message keeps its lines; a renderer that prints a status line by line must still use
    :func:`printable` for names it puts at the start of a line.
    """
    text = text if isinstance(text, str) else str(text)
    if text.isprintable():
        return text
    return "".join(
        ch if ch.isprintable() or (keep_newlines and ch == "\n") else repr(ch)[1:-1]
        for ch in text
    )
