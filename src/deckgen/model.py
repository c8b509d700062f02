"""Assemble parsed cards into one deck: ids checked, GUIDs, Anki deck names, rendered sides."""

from __future__ import annotations

import re
from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import genanki

from deckgen.config import DeckConfig
from deckgen.errors import Problem
from deckgen.images import Image
from deckgen.markup import DisplayFormula, InlineFormula, render
from deckgen.parse import Card, CardFile
from deckgen.plotspec import Plot

if TYPE_CHECKING:
    from deckgen.renders import Renders


@dataclass(frozen=True)
class Note:
    """A card ready for Anki: identity, place and the HTML of its parts."""

    card: Card
    guid: str
    deck_name: str
    title: str
    front: str
    back: str
    images: tuple[Image, ...]
    plots: tuple[Plot, ...]
    clozes: tuple[int, ...] = ()  # a cloze note's deletion numbers: one Anki card each
    formulas: tuple[DisplayFormula, ...] = ()  # display math of the question, answer and notes
    inline: tuple[InlineFormula, ...] = ()  # inline math of the title and the sides


@dataclass(frozen=True)
class Deck:
    """The whole deck: settings, notes in source order, and its sections in order."""

    config: DeckConfig
    cards_dir: Path
    notes: tuple[Note, ...]

    @property
    def sections(self) -> list[str]:
        """Return the deck paths in the order they first appear."""
        return list(dict.fromkeys(note.card.deck for note in self.notes))

    @property
    def images(self) -> list[Image]:
        """Return every image used, once each, in order of first use."""
        return list(dict.fromkeys(image for note in self.notes for image in note.images))

    @property
    def plots(self) -> list[Plot]:
        """Return every plot, in order of first use."""
        return [plot for note in self.notes for plot in note.plots]


@dataclass(frozen=True)
class Rendering:
    """A card as Anki shows it, and what it uses: all that the card's own text decides."""

    title: str
    front: str
    back: str  # the answer and the notes under it
    images: tuple[Image, ...]
    plots: tuple[Plot, ...]
    clozes: tuple[int, ...]
    formulas: tuple[DisplayFormula, ...]
    inline: tuple[InlineFormula, ...] = ()


def assemble(
    files: list[CardFile], config: DeckConfig, cards_dir: Path, renders: Renders | None = None
) -> tuple[Deck, list[Problem]]:
    """Check ids across files and render every card for Anki (unless `renders` holds it from the
    last build); return the deck and all problems."""
    cards = [card for file in files for card in file.cards]
    problems = [p for file in files for p in file.problems]
    problems += duplicate_ids(cards)
    notes = []
    for card in cards:
        rendering = renders.get(card) if renders is not None else None
        if rendering is None:
            rendering, found = render_card(card, cards_dir)
            problems += found
            if renders is not None and not found:
                renders.put(card, rendering)
        notes.append(_note(card, config, rendering))
    return Deck(config, cards_dir, tuple(notes)), problems


def duplicate_ids(cards: list[Card]) -> list[Problem]:
    """Report every card whose id another card also uses, naming the other places."""
    places = defaultdict(list)
    for card in cards:
        if card.id is not None:
            places[card.id].append(card.loc)
    problems = []
    for card_id, locs in places.items():
        for loc in locs if len(locs) > 1 else []:
            others = ", ".join(str(other) for other in locs if other != loc)
            problems.append(Problem(loc, f"duplicate card id '{card_id}' (also used at {others})"))
    return problems


def render_card(card: Card, cards_dir: Path) -> tuple[Rendering, list[Problem]]:
    """Render a card's title and sides for Anki, checking everything in them."""
    cloze = card.kind == "cloze"
    title = render(card.title, card.loc, cards_dir, "anki")
    front = render(card.front.text, card.front.loc, cards_dir, "anki", cloze=cloze)
    back = render(card.back.text, card.back.loc, cards_dir, "anki")
    notes = render(card.notes.text, card.notes.loc, cards_dir, "anki")
    rendering = Rendering(
        title=inline_html(title.html),
        front=front.html,
        back=back.html + with_notes(notes.html),
        images=tuple(title.images + front.images + back.images + notes.images),
        plots=tuple(front.plots + back.plots + notes.plots),
        clozes=tuple(sorted(front.deletions)) if cloze else (),
        formulas=tuple(front.formulas + back.formulas + notes.formulas),
        inline=tuple(title.inline + front.inline + back.inline + notes.inline),
    )
    problems = title.problems + front.problems + back.problems + notes.problems
    if cloze and not front.deletions and not problems:  # `{{c1::` in code is no deletion
        problems.append(Problem(card.loc, "cloze card has no deletion: mark one like {{c1::text}}"))
    return rendering, problems


def _note(card: Card, config: DeckConfig, rendering: Rendering) -> Note:
    return Note(
        card=card,
        guid=genanki.guid_for(config.id, card.id or ""),
        deck_name=f"{config.title}::{card.deck}",
        title=rendering.title,
        front=rendering.front,
        back=rendering.back,
        images=rendering.images,
        plots=rendering.plots,
        clozes=rendering.clozes,
        formulas=rendering.formulas,
        inline=rendering.inline,
    )


def with_notes(html: str) -> str:
    """Wrap a card's rendered notes in the block Anki and the handout show under the answer."""
    return f'<div class="notes">\n{html}</div>\n' if html else ""


def inline_html(html: str) -> str:
    """Unwrap a one-paragraph rendering (a title) to its inline HTML."""
    match = re.fullmatch(r"<p>(.*)</p>\n?", html, re.DOTALL)
    return match.group(1) if match else html
