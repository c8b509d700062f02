"""The Anki package: note types fixed forever, templates that may evolve, the shipped deck."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from conftest import built, deckgen, import_apkg

from deckgen import package, plots, plotspec, uptodate
from deckgen.build import load

REPO = Path(__file__).parent.parent


def test_note_types_never_change_identity() -> None:
    # Users' collections find note types by these ids and match notes by these fields: changing
    # any of them makes Anki create a second note type and stop updating imported notes.
    identity = {
        kind: (t.id, t.name, t.fields, [name for name, _, _ in t.templates])
        for kind, t in package.NOTE_TYPES.items()
    }
    assert identity == {
        "basic": (1573593956, "deckgen Basic", ("Title", "Front", "Back"), ["Card 1"]),
        "reversed": (
            1515507056,
            "deckgen Basic (and reversed card)",
            ("Title", "Front", "Back"),
            ["Card 1", "Card 2"],
        ),
        "cloze": (1332330649, "deckgen Cloze", ("Title", "Text", "Extra"), ["Cloze"]),
    }


def test_new_css_updates_the_note_type_instead_of_adding_one(
    project: Path, collection: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "1700000000")
    import_apkg(collection, built(project))
    css = package.card_css()
    monkeypatch.setattr(package, "card_css", lambda: css + "\n.title { color: teal; }")
    # as a new deckgen would: its code is part of what decides whether a build has work to do
    monkeypatch.setattr(uptodate, "unchanged", lambda *args: None)
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "1700000100")
    import_apkg(collection, built(project))
    names = [m["name"] for m in collection.models.all() if m["name"].startswith("deckgen")]
    assert len(names) == 3
    assert "color: teal" in collection.models.by_name("deckgen Basic")["css"]


def test_shipped_deck_builds_and_imports_every_card(
    tmp_path: Path, collection: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    shutil.copytree(REPO / "cards", tmp_path / "cards")
    monkeypatch.chdir(tmp_path)
    assert deckgen("check").exit_code == 0  # the shipped cards all have their ids
    deck, _ = load(Path("cards"), write_ids=False)
    kinds = {note.card.kind for note in deck.notes}
    assert kinds == {"basic", "reversed", "cloze"}
    assert any("<table>" in n.back or "<table>" in n.front for n in deck.notes)
    result = deckgen("build", "--only", "apkg")
    assert result.exit_code == 0, result.output
    import_apkg(collection, tmp_path / "build/ml-interview-prep.apkg")
    assert collection.note_count() == len(deck.notes) >= 40
    # every kind of plot is used, and every plot reaches Anki's media in both modes
    assert {plot.kind for plot in deck.plots} == set(plotspec.OPTIONS)
    media = Path(collection.media.dir())
    figures = plots.render(deck.plots, tmp_path / "build/.cache")
    for plot in deck.plots:
        assert (media / figures[plot].media_name()).is_file(), plot.loc
        assert (media / figures[plot].media_name(night=True)).is_file(), plot.loc
    assert (REPO / "cards/deckgen.lock").read_text() == (
        tmp_path / "cards/deckgen.lock"
    ).read_text()


def test_shipped_answers_stay_short() -> None:
    # One fact per card: the answer-length figures must stay within issue 10's targets.
    done = subprocess.run(
        [sys.executable, str(REPO / "benchmarks/cards.py"), "--check"],
        capture_output=True,
        text=True,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert "Statistics" in done.stdout and "Deep Learning" in done.stdout
