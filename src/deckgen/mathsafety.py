"""Refuse LaTeX that would act, not show: Anki's MathJax loads every TeX extension on demand.

A card's formula reaches a MathJax page that is reused from card to card. So a formula may not
define or redefine a macro (a later, innocent card would run it), make links, set styles, classes
or ids, load extensions, or pick fonts; nor contain the delimiters that end the math early.
"""

from __future__ import annotations

import re

MAX_LATEX = 1000  # characters of one formula; the shipped deck's longest has 254

# Control sequences by what they would do in Anki's MathJax 3 (all of tex-full, autoloaded).
_REFUSED = {
    "defines a macro for every later card": (
        "def gdef edef xdef let futurelet global newcommand renewcommand providecommand "
        "newenvironment renewenvironment DeclareMathOperator Newextarrow definecolor "
        "begingroup endgroup"
    ),
    "makes a link, a style, a class or an id": "href class cssId style data",
    "sets raw attributes, styles or fonts": "mmlToken bbox enclose unicode",
    "loads or configures MathJax": "require setOptions",
}
_REASONS = {name: reason for reason, names in _REFUSED.items() for name in names.split()}
# One control sequence: a backslash and letters, or a backslash and any one character.
_CONTROL = re.compile(r"\\([A-Za-z]+|.)", re.DOTALL)
_DELIMITERS = {"(", ")", "[", "]"}


def refusal(latex: str) -> str | None:
    """Say why a formula may not reach Anki or the PDF, or return None when it may."""
    if len(latex) > MAX_LATEX:
        return f"is {len(latex)} characters long; split it (at most {MAX_LATEX})"
    for match in _CONTROL.finditer(latex):
        name = match.group(1)
        if name in _REASONS:
            return f"'\\{name}' is not allowed: it {_REASONS[name]}"
        if name in _DELIMITERS:
            return f"'\\{name}' would end or start the math early"
    return None
