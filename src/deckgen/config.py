"""The deck-wide settings in `cards/deck.yaml`, and the options of one build."""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from deckgen.errors import Problem, SourceErrors, SourceLoc, quote
from deckgen.sources import load_yaml, read_text

CONFIG_NAME = "deck.yaml"
PAPERS = ("a4", "letter")
OUTPUTS = ("apkg", "pdf", "handout")  # the package, the cheatsheet, the study handout
_SLUG = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,99}")
_KEYS = {"id", "title", "slug", "paper", "columns"}


@dataclass(frozen=True)
class DeckConfig:
    """What `deck.yaml` says about the whole deck."""

    id: str
    title: str
    slug: str
    paper: str = "a4"
    columns: int = 4


@dataclass(frozen=True)
class BuildOptions:
    """Where to read and write, and what to produce."""

    cards_dir: Path = Path("cards")
    out_dir: Path = Path("build")
    paper: str | None = None
    outputs: tuple[str, ...] = OUTPUTS


def load_deck_config(cards_dir: Path) -> DeckConfig:
    """Read and validate `deck.yaml` in the cards folder."""
    path = cards_dir / CONFIG_NAME
    top = SourceLoc(path, 1)
    if not cards_dir.is_dir():
        raise SourceErrors([Problem(SourceLoc(cards_dir, 0), "cards folder not found")])
    if not path.exists() and not path.is_symlink():
        raise SourceErrors([Problem(top, "deck settings file not found")])
    try:
        raw = load_yaml(read_text(path, root=cards_dir))
    except yaml.YAMLError as err:
        raise SourceErrors([yaml_problem(path, err)]) from None
    return _validate(raw, top)


def _validate(raw: Any, top: SourceLoc) -> DeckConfig:
    if not isinstance(raw, dict):
        raise SourceErrors([Problem(top, "expected keys id, title, slug")])
    problems = [
        Problem(top, f"unknown setting '{quote(str(key))}'") for key in raw if key not in _KEYS
    ]
    for key in ("id", "title", "slug"):
        if not isinstance(raw.get(key), str) or not raw[key].strip():
            problems.append(Problem(top, f"'{key}' must be a non-empty text"))
    title = raw.get("title")
    if isinstance(title, str) and any(not part.strip() for part in title.split("::")):
        message = "'title' names the top-level Anki deck: no empty part around '::'"
        problems.append(Problem(top, message))
    if isinstance(raw.get("slug"), str) and not _SLUG.fullmatch(raw["slug"]):
        message = "'slug' may hold only letters, digits, '.', '-' and '_' (at most 100)"
        problems.append(Problem(top, message))
    if raw.get("paper", "a4") not in PAPERS:
        problems.append(Problem(top, f"'paper' must be one of {', '.join(PAPERS)}"))
    columns = raw.get("columns", 4)
    if not isinstance(columns, int) or isinstance(columns, bool) or not 1 <= columns <= 6:
        problems.append(Problem(top, "'columns' must be a whole number from 1 to 6"))
    if problems:
        raise SourceErrors(problems)
    return DeckConfig(
        id=raw["id"].strip(),
        title=raw["title"].strip(),
        slug=raw["slug"],
        paper=raw.get("paper", "a4"),
        columns=columns,
    )


def yaml_problem(path: Path, err: yaml.YAMLError, first_line: int = 1) -> Problem:
    """Turn a YAML parse error into a problem at the line the parser stopped on."""
    mark = getattr(err, "problem_mark", None)
    line = first_line + (mark.line if mark is not None else 0)
    reason = quote(str(getattr(err, "problem", None) or err).strip(), 120)
    return Problem(SourceLoc(path, line), f"invalid YAML: {reason}")
