"""What importing the new package will do in Anki, compared with the previous build.

Anki adds notes it has not seen, updates notes that are newer, and leaves the rest alone. It never
moves a card to another deck, never deletes a note or a card, and does not update a note whose note
type changed. The lock remembers what the previous build put in the package (`Built`, per card
id), so each build can say what a user who imported that one should expect, and what to do by hand.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from deckgen.errors import SourceLoc, quote
from deckgen.model import Deck
from deckgen.state import Built


def manifest(deck: Deck) -> dict[str, Built]:
    """Return what this build puts into the package, by card id."""
    return {
        note.card.id or "": Built(note.card.deck, note.card.kind, note.clozes)
        for note in deck.notes
    }


@dataclass
class ImportReport:
    """Notes Anki will add, update or leave, and what it will not do by itself."""

    added: list[str] = field(default_factory=list)
    updated: list[str] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)
    moved: list[tuple[SourceLoc, str, str, str]] = field(default_factory=list)  # id, from, to
    deleted: list[tuple[str, str]] = field(default_factory=list)  # id, deck
    clozes_removed: list[tuple[SourceLoc, str, list[int]]] = field(default_factory=list)
    retyped: list[tuple[SourceLoc, str, str, str]] = field(default_factory=list)  # id, from, to
    renamed: tuple[str, str] | None = None  # the top-level deck: from, to
    first: bool = False  # no previous build recorded: nothing to compare with

    def warnings(self) -> list[str]:
        """One line per thing Anki will not do, saying what to do by hand."""
        lines = []  # a renamed top-level deck is pointed out by the build itself, at deck.yaml
        for loc, card_id, old, new in self.moved:
            lines.append(
                f"{loc}: card '{card_id}' moved from deck '{quote(old)}' to '{quote(new)}': Anki"
                " keeps its cards where they are (Browse › Change Deck)"
            )
        for loc, card_id, old, new in self.retyped:
            lines.append(
                f"{loc}: card '{card_id}' changed from {old} to {new}: Anki will not update its"
                " note (give the card a new id, or change the note type in Anki)"
            )
        for loc, card_id, numbers in self.clozes_removed:
            gone = ", ".join(f"c{n}" for n in numbers)
            lines.append(
                f"{loc}: card '{card_id}' no longer has {gone}: Anki keeps those cards, empty"
                " (Tools › Empty Cards removes them)"
            )
        for card_id, deck in self.deleted:
            lines.append(
                f"card '{card_id}' (deck '{quote(deck)}') was deleted from the sources: its note"
                " stays in Anki (delete it there)"
            )
        return lines

    def as_json(self) -> dict[str, Any]:
        return {
            "first_build": self.first,
            "added": self.added,
            "updated": self.updated,
            "unchanged": self.unchanged,
            "moved": [
                {"id": i, "from": old, "to": new, "at": str(loc)} for loc, i, old, new in self.moved
            ],
            "type_changed": [
                {"id": i, "from": old, "to": new, "at": str(loc)}
                for loc, i, old, new in self.retyped
            ],
            "clozes_removed": [
                {"id": i, "clozes": numbers, "at": str(loc)}
                for loc, i, numbers in self.clozes_removed
            ],
            "deleted": [{"id": i, "deck": deck} for i, deck in self.deleted],
            "top_level_renamed": (
                {"from": self.renamed[0], "to": self.renamed[1]} if self.renamed else None
            ),
        }


def compare(
    deck: Deck,
    changed: set[str],
    previous: dict[str, Built] | None,
    previous_title: str | None,
) -> ImportReport:
    """Compare this build (`changed`: ids whose note content is new) with the previous one."""
    report = ImportReport(first=previous is None)
    before = previous or {}
    for note in deck.notes:
        card_id, card = note.card.id or "", note.card
        old = before.get(card_id)
        if old is None:
            report.added.append(card_id)
            continue
        (report.updated if card_id in changed else report.unchanged).append(card_id)
        if old.deck != card.deck:
            report.moved.append((card.loc, card_id, old.deck, card.deck))
        if old.kind != card.kind:
            report.retyped.append((card.loc, card_id, old.kind, card.kind))
        elif removed := sorted(set(old.clozes) - set(note.clozes)):
            report.clozes_removed.append((card.loc, card_id, removed))
    ids = {note.card.id for note in deck.notes}
    report.deleted = [(i, built.deck) for i, built in sorted(before.items()) if i not in ids]
    title = deck.config.title
    if previous_title is not None and previous_title != title:
        report.renamed = (previous_title, title)
    return report
