"""Write the Anki package (.apkg) with genanki: fixed note types, stable GUIDs, honest mod times."""

from __future__ import annotations

import hashlib
import io
import itertools
import json
import re
import sqlite3
import tempfile
import zipfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import genanki

from deckgen.markup import code_css, read_template
from deckgen.model import Deck, Note
from deckgen.plots import Figures
from deckgen.state import Lock

# Note type ids, names, fields and template names are part of every user's collection: Anki finds
# note types by id and refuses to update notes whose fields changed. NEVER change them.
# CSS and template HTML may change: the note type's mod time rises and Anki updates it.
_TITLE_AND_QUESTION = (
    '<div class="title">{{Title}}</div>\n{{#Front}}<div class="question">{{Front}}</div>{{/Front}}'
)
_BACK = '{{FrontSide}}\n<hr id="answer">\n<div class="answer">{{Back}}</div>'
_CLOZE_FRONT = '<div class="title">{{Title}}</div>\n<div class="question">{{cloze:Text}}</div>'
_CLOZE_BACK = (
    _CLOZE_FRONT + '\n{{#Extra}}<hr id="answer">\n<div class="answer">{{Extra}}</div>{{/Extra}}'
)


@dataclass(frozen=True)
class NoteType:
    """One Anki note type as deckgen defines it forever (but for its HTML and CSS)."""

    id: int
    name: str
    fields: tuple[str, ...]
    templates: tuple[tuple[str, str, str], ...]  # name, question HTML, answer HTML
    cloze: bool = False


NOTE_TYPES = {
    "basic": NoteType(
        1573593956,
        "deckgen Basic",
        ("Title", "Front", "Back"),
        (("Card 1", _TITLE_AND_QUESTION, _BACK),),
    ),
    "reversed": NoteType(
        1515507056,
        "deckgen Basic (and reversed card)",
        ("Title", "Front", "Back"),
        (
            ("Card 1", _TITLE_AND_QUESTION, _BACK),
            (
                "Card 2",
                # The Back field holds the notes too: hidden while it is the question, shown
                # under the answer (the CSS shows only the notes of the second copy).
                '<div class="question reverse">{{Back}}</div>',
                '{{FrontSide}}\n<hr id="answer">\n'
                + _TITLE_AND_QUESTION
                + '\n<div class="reverse-notes">{{Back}}</div>',
            ),
        ),
    ),
    "cloze": NoteType(
        1332330649,
        "deckgen Cloze",
        ("Title", "Text", "Extra"),
        (("Cloze", _CLOZE_FRONT, _CLOZE_BACK),),
        True,
    ),
}


def card_css() -> str:
    """Return the note types' CSS: the template plus code colours for day and night mode."""
    return "\n".join(
        [read_template("anki.css"), code_css("", "default"), code_css(".nightMode", "monokai")]
    )


class _StampedModel(genanki.Model):  # type: ignore[misc]
    """A genanki model whose mod time comes from the lock, not from the clock."""

    def __init__(self, note_type: NoteType, css: str, mod: int) -> None:
        super().__init__(
            note_type.id,
            note_type.name,
            fields=[{"name": name} for name in note_type.fields],
            templates=[{"name": n, "qfmt": q, "afmt": a} for n, q, a in note_type.templates],
            css=css,
            model_type=genanki.Model.CLOZE if note_type.cloze else genanki.Model.FRONT_BACK,
        )
        self.mod = mod

    def to_json(self, timestamp: float, deck_id: int) -> Any:
        return super().to_json(self.mod, deck_id)


class _StampedNote(genanki.Note):  # type: ignore[misc]
    """A genanki note whose (and whose cards') mod time is its own content's, from the lock."""

    def __init__(self, mod: int, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.mod = mod

    def write_to_db(self, cursor: Any, timestamp: float, deck_id: int, id_gen: Any) -> None:
        super().write_to_db(cursor, self.mod, deck_id, id_gen)


def note_fields(note: Note, renames: dict[str, str]) -> list[str]:
    """Return a note's field values in its note type's order, plots under their file names."""
    return [note.title, _renamed(note.front, renames), _renamed(note.back, renames)]


_PLOT_SRC = re.compile(r'src="(deckgen-plot-[0-9a-f]{16}(?:-night)?\.png)"')


def _renamed(html: str, renames: dict[str, str]) -> str:
    def named(match: re.Match[str]) -> str:
        if match[1] not in renames:  # a plot the deck does not declare: a deckgen bug
            raise RuntimeError(f"no drawing for {match[1]}")
        return f'src="{renames[match[1]]}"'

    return _PLOT_SRC.sub(named, html)


def plot_files(deck: Deck, figures: Figures) -> dict[str, str]:
    """The name a plot's HTML gives each drawing (from the plot's spec, known before drawing)
    -> the name of its file in the package (from its pixels)."""
    return {
        plot.media_name(night): figures[plot].media_name(night)
        for plot in deck.plots
        for night in (False, True)
    }


def build_apkg(deck: Deck, lock: Lock, figures: Figures) -> bytes:
    """Return the .apkg bytes of the deck; stamps changed notes and note types in the lock."""
    css = card_css()
    models = {kind: _model(kind, css, lock) for kind in NOTE_TYPES}
    renames = plot_files(deck, figures)
    decks: dict[str, genanki.Deck] = {}
    for note in deck.notes:
        anki_deck = decks.setdefault(
            note.deck_name, genanki.Deck(_deck_id(note.deck_name), note.deck_name)
        )
        anki_deck.add_note(_anki_note(note, models[note.card.kind], lock, renames))
    return _zip_package(list(decks.values()), media(deck, figures), lock.newest_used())


def media(deck: Deck, figures: Figures) -> dict[str, bytes]:
    """Every file the notes show, by the name their HTML uses: images, then plots (day, night)."""
    files = {image.media_name: image.source.read_bytes() for image in deck.images}
    for plot in deck.plots:
        files[figures[plot].media_name()] = figures[plot].png
        files[figures[plot].media_name(night=True)] = figures[plot].png_night
    return files


def _model(kind: str, css: str, lock: Lock) -> _StampedModel:
    note_type = NOTE_TYPES[kind]
    content = json.dumps([note_type.templates, css])
    return _StampedModel(note_type, css, lock.mod(f"model:{note_type.name}", content))


def _anki_note(
    note: Note, model: _StampedModel, lock: Lock, renames: dict[str, str]
) -> _StampedNote:
    fields = note_fields(note, renames)
    tags = list(note.card.tags)
    mod = lock.mod(f"note:{note.card.id}", json.dumps([model.name, fields, tags]))
    return _StampedNote(mod, model=model, fields=fields, tags=tags, guid=note.guid)


def _deck_id(name: str) -> int:
    # Anki matches decks by name; a stable id only keeps the package reproducible.
    return 1 << 30 | int.from_bytes(hashlib.sha256(name.encode()).digest()[:5], "big")


def _zip_package(decks: list[genanki.Deck], files: dict[str, bytes], timestamp: int) -> bytes:
    """Write the collection with genanki, then zip it with fixed dates so bytes are reproducible."""
    with tempfile.TemporaryDirectory() as tmp:
        db_path = Path(tmp) / "collection.anki2"
        with sqlite3.connect(db_path) as conn:
            # Note and card ids count up from the newest stamp: stable while the content is.
            genanki.Package(decks).write_to_db(
                conn.cursor(), timestamp, itertools.count(timestamp * 1000)
            )
        conn.close()
        buffer = io.BytesIO()
        with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as apkg:
            _add(apkg, "collection.anki2", db_path.read_bytes())
            _add(apkg, "media", json.dumps({str(i): name for i, name in enumerate(files)}))
            for i, data in enumerate(files.values()):
                _add(apkg, str(i), data)
    return buffer.getvalue()


def _add(apkg: zipfile.ZipFile, name: str, data: bytes | str) -> None:
    info = zipfile.ZipInfo(name, date_time=(1980, 1, 1, 0, 0, 0))
    info.compress_type = zipfile.ZIP_DEFLATED
    apkg.writestr(info, data)
