"""The re-import report: what importing the new package does in a real Anki collection, and what
it does not do (moved, deleted, retyped cards, removed clozes), said before the user imports."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from conftest import deckgen, import_apkg

APKG = "build/test-deck.apkg"


def build_json(project: Path) -> dict[str, Any]:
    result = deckgen("build", "--only", "apkg", "--json")
    assert result.exit_code == 0, result.output
    report: dict[str, Any] = json.loads(result.stdout)["import"]
    return report


def edit(path: Path, old: str, new: str) -> None:
    text = path.read_text()
    assert old in text
    path.write_text(text.replace(old, new))


def note_id(col: Any, card_id: str) -> int:
    [found] = col.find_notes(f'"Title:{card_id}"')
    return int(found)


def test_the_report_says_what_anki_will_and_will_not_do(
    project: Path, collection: Any, monkeypatch: Any
) -> None:
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "1700000000")
    assert build_json(project)["first_build"] is True
    import_apkg(collection, project / APKG)
    code = note_id(collection, "Code")

    stats, rules = project / "cards/01-statistics.md", project / "cards/probability/02-rules.md"
    edit(stats, "The average of the observations:", "The arithmetic mean:")  # edited
    edit(stats, "## Error types {#error-types}", "## Error types {#error-types type=reversed}")
    edit(stats, "{{c2::$1/\\sqrt{n}$::a power of n}}", "$1/\\sqrt{n}$")  # c2 removed
    text = rules.read_text()
    rules.write_text(text[: text.index("## Code")])  # deleted
    bayes = text[text.index("## Bayes") : text.index("## Normal curve")]
    rules.write_text(rules.read_text().replace(bayes, ""))
    edit(stats, "## Standard error", bayes + "\n## Standard error")  # moved to Statistics
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "1700000100")
    report = build_json(project)

    assert report["first_build"] is False and report["added"] == []
    assert set(report["updated"]) == {
        "sample-mean",
        "standard-error",
        "bayes",
        "error-types",
    }
    assert set(report["unchanged"]) == {"tricky-latex", "normal-curve"}
    [moved] = report["moved"]
    assert (moved["id"], moved["from"], moved["to"]) == (
        "bayes",
        "Probability::Rules",
        "Statistics",
    )
    assert moved["at"].startswith("cards/01-statistics.md:")
    assert report["deleted"] == [{"id": "code-card", "deck": "Probability::Rules"}]
    assert [(c["id"], c["clozes"]) for c in report["clozes_removed"]] == [("standard-error", [2])]
    [retyped] = report["type_changed"]
    assert (retyped["id"], retyped["from"], retyped["to"]) == ("error-types", "basic", "reversed")

    # What a real Anki does on import, as the report said.
    import_apkg(collection, project / APKG)
    assert collection.get_note(code)  # a deleted card's note stays
    moved_cards = collection.get_note(note_id(collection, "Bayes* theorem")).cards()
    assert {collection.decks.name(c.did) for c in moved_cards} == {"Test Deck::Probability::Rules"}
    cloze = collection.get_note(note_id(collection, "Standard error"))
    assert len(cloze.cards()) == 2  # the c2 card stays, now empty
    assert "arithmetic mean" in collection.get_note(note_id(collection, "Sample mean"))["Back"]
    retyped_note = collection.get_note(note_id(collection, "Error types"))
    assert retyped_note.note_type()["name"] == "deckgen Basic"  # not updated to the new type

    text_output = deckgen("build", "--only", "apkg").output  # nothing changed since
    assert "on import, Anki will add 0 notes, update 0 and leave 6 unchanged" in text_output


def test_the_report_names_places_and_the_way_out(project: Path) -> None:
    assert deckgen("build", "--only", "apkg").exit_code == 0
    rules = project / "cards/probability/02-rules.md"
    text = rules.read_text()
    rules.write_text(text[: text.index("## Code")])
    output = deckgen("build", "--only", "apkg").output
    assert "on import, Anki will add 0 notes, update 0 and leave 6 unchanged" in output
    assert (
        "card 'code-card' (deck 'Probability::Rules') was deleted from the sources: its note"
        " stays in Anki (delete it there)" in output
    )
