"""Source locations and the errors that speak to the card's author."""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

import click

# Characters that would move the cursor, recolour the terminal or split a message's line:
# C0 and C1 controls, line and paragraph separators, and bidirectional overrides.
_UNPRINTABLE = re.compile("[\x00-\x1f\x7f-\x9f\u2028\u2029\u202a-\u202e\u2066-\u2069]")
MESSAGE_LIMIT = 400  # characters of a message; what it quotes from a card is cut before that


def printable(text: str) -> str:
    """Escape control characters so that a message shows them instead of obeying them."""
    return _UNPRINTABLE.sub(lambda m: m.group().encode("unicode_escape").decode(), text)


def quote(text: str, limit: int = 60) -> str:
    """Return card text for a message: printable and, if long, cut with an ellipsis."""
    text = printable(text)
    return text if len(text) <= limit else text[: limit - 1] + "…"


@dataclass(frozen=True, order=True)
class SourceLoc:
    """A line in a source file (1-based)."""

    path: Path
    line: int

    def __str__(self) -> str:
        return f"{printable(str(self.path))}:{self.line}"

    def at(self, offset: int) -> SourceLoc:
        """Return the location `offset` lines further down."""
        return SourceLoc(self.path, self.line + offset)


@dataclass(frozen=True, order=True)
class Problem:
    """One thing wrong with the sources, where it is."""

    loc: SourceLoc
    message: str

    def __str__(self) -> str:
        return f"{self.loc}: {quote(self.message, MESSAGE_LIMIT)}"


class DeckgenError(click.ClickException):
    """A mistake in the user's input: printed without a traceback, exit status 1."""

    def __init__(self, message: str) -> None:
        super().__init__(printable(message))


class SourceErrors(DeckgenError):
    """Every problem found in the sources, sorted by location."""

    def __init__(self, problems: Iterable[Problem]) -> None:
        self.problems = sorted(set(problems))
        count = len(self.problems)
        summary = f"{count} problem{'s' if count != 1 else ''} found"
        # one problem a line: each is printable already
        click.ClickException.__init__(self, "\n".join([*map(str, self.problems), summary]))

    def format_message(self) -> str:
        # ClickException prefixes "Error: "; a list of path:line lines reads better without it.
        return self.message

    def show(self, file: object = None) -> None:
        click.echo(self.format_message(), err=True)


def raise_if_any(problems: list[Problem]) -> None:
    """Raise SourceErrors when the list is not empty."""
    if problems:
        raise SourceErrors(problems)
