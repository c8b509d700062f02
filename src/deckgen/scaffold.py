"""`deckgen new`: start a card file with front matter and one card to fill in."""

from __future__ import annotations

import json
import re
from pathlib import Path

from deckgen import ids, parse
from deckgen.errors import Problem, SourceErrors, SourceLoc, quote

_TEMPLATE = """\
---
deck: {deck}
tags: []
---

# {heading}

## {title} {{#{card_id}}}

The question: one thing to recall.

A: The answer, about 40 words at most; a formula such as $e^{{i\\pi}} = -1$ counts as one word.

Notes: Optional: why, an example, a pitfall. Anki shows them under the answer; so does the
handout.
"""


def new_card_file(path: Path, cards_dir: Path, deck: str | None) -> str:
    """Write a new card file at `path` (inside the cards folder); return its card's id."""
    where = SourceLoc(path, 0)
    if path.suffix != ".md":
        raise SourceErrors([Problem(where, "a card file's name ends in .md")])
    if not path.resolve().is_relative_to(cards_dir.resolve()):
        raise SourceErrors([Problem(where, f"not inside the cards folder {quote(str(cards_dir))}")])
    if path.exists() or path.is_symlink():
        raise SourceErrors([Problem(where, "already exists: choose another name")])
    taken = {card.id for file in parse.read_all(cards_dir) for card in file.cards if card.id}
    card_id = ids.claim("new-card", taken)
    heading = _heading(path)
    deck_yaml = json.dumps(deck or heading, ensure_ascii=False)  # a JSON string is YAML too
    text = _TEMPLATE.format(deck=deck_yaml, heading=heading, title="New card", card_id=card_id)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    problems = parse.read_file(path).problems
    if problems:  # a deck name the front matter cannot hold
        path.unlink()
        raise SourceErrors(list(problems))
    return card_id


def _heading(path: Path) -> str:
    """'12-ab-testing.md' -> 'Ab testing'."""
    words = re.sub(r"^[\d\s._-]+", "", path.stem).replace("-", " ").replace("_", " ").strip()
    return (words[:1].upper() + words[1:]) or "Cards"
