"""Refuse LaTeX that would act, not show: Anki's MathJax loads every TeX extension on demand.

A card's formula reaches a MathJax page that is reused from card to card. So a formula may not
define or redefine a macro (a later, innocent card would run it), make links, set styles, classes
or ids, load extensions, or pick fonts; nor contain the delimiters that end the math early.
"""

from __future__ import annotations

import re

MAX_LATEX = 1000  # characters of one formula; the shipped deck's longest has 254

# Control sequences by what they would do in Anki's MathJax 3 (all of tex-full, autoloaded).
_DEFINES = "defines a macro for every later card"
_REFUSED = {
    _DEFINES: (
        "def gdef edef xdef let futurelet global begingroup endgroup usetagform mathtoolsset"
    ),
    "makes a link, a style, a class or an id": "href class cssId style data",
    "sets raw attributes, styles or fonts": "mmlToken bbox enclose unicode",
    "loads or configures MathJax": "require setOptions",
}
_REASONS = {name: reason for reason, names in _REFUSED.items() for name in names.split()}
# Every command that declares something is named so: \newcommand, \renewenvironment,
# \providecommand, \DeclareMathOperator, \DeclarePairedDelimiter, \Newextarrow, \definecolor,
# \newtagform ... (\newline only breaks a line).
_DECLARES = re.compile(r"(?:re)?new(?!line$)|provide|[Dd]eclare|[Dd]efine|New", re.ASCII)
# One control sequence: a backslash and letters, or a backslash and any one character.
_CONTROL = re.compile(r"\\([A-Za-z]+|.)", re.DOTALL)
_DELIMITERS = {"(", ")", "[", "]"}
# What MathJax's FindTeX counts to find the end of math: escaped characters, and braces.
_FIND_TEX = re.compile(r"\\.|[{}]", re.DOTALL)
# Anki plays `[sound:...]` and speaks `[anki:tts]` wherever they stand in a field, math too.
_AV_TAG = re.compile(r"\[(?:sound|anki):", re.IGNORECASE)


def refusal(latex: str) -> str | None:
    """Say why a formula may not reach Anki or the PDF, or return None when it may."""
    if len(latex) > MAX_LATEX:
        return f"is {len(latex)} characters long; split it (at most {MAX_LATEX})"
    for match in _CONTROL.finditer(latex):
        name = match.group(1)
        if name in _REASONS or _DECLARES.match(name):
            return f"'\\{name}' is not allowed: it {_REASONS.get(name, _DEFINES)}"
        if name in _DELIMITERS:
            return f"'\\{name}' would end or start the math early"
    if _AV_TAG.search(latex):
        return "'[sound:' or '[anki:' would make Anki play or speak it"
    return None


def braces_close(latex: str) -> bool:
    """Whether MathJax would end the formula where deckgen does: every `{` closed by then.

    Valid TeX can leave one open as MathJax counts (`\\verb|{|`): the math would run on into
    the text after it, where nothing is checked.
    """
    depth = 0
    for match in _FIND_TEX.finditer(latex):
        if match.group() == "{":
            depth += 1
        elif match.group() == "}" and depth:
            depth -= 1
    return depth == 0
