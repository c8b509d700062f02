"""Source locations and the errors that speak to the card's author."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

import click


@dataclass(frozen=True, order=True)
class SourceLoc:
    """A line in a source file (1-based)."""

    path: Path
    line: int

    def __str__(self) -> str:
        return f"{self.path}:{self.line}"

    def at(self, offset: int) -> SourceLoc:
        """Return the location `offset` lines further down."""
        return SourceLoc(self.path, self.line + offset)


@dataclass(frozen=True, order=True)
class Problem:
    """One thing wrong with the sources, where it is."""

    loc: SourceLoc
    message: str

    def __str__(self) -> str:
        return f"{self.loc}: {self.message}"


class DeckgenError(click.ClickException):
    """A mistake in the user's input: printed without a traceback, exit status 1."""


class SourceErrors(DeckgenError):
    """Every problem found in the sources, sorted by location."""

    def __init__(self, problems: Iterable[Problem]) -> None:
        self.problems = sorted(set(problems))
        count = len(self.problems)
        summary = f"{count} problem{'s' if count != 1 else ''} found"
        super().__init__("\n".join([*map(str, self.problems), summary]))

    def format_message(self) -> str:
        # ClickException prefixes "Error: "; a list of path:line lines reads better without it.
        return self.message

    def show(self, file: object = None) -> None:
        click.echo(self.format_message(), err=True)


def raise_if_any(problems: list[Problem]) -> None:
    """Raise SourceErrors when the list is not empty."""
    if problems:
        raise SourceErrors(problems)
