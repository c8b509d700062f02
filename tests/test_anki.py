"""The .apkg imported into a real Anki collection (official `anki` package), edited, re-imported."""

from __future__ import annotations

import html
import re
from pathlib import Path
from typing import Any

import pytest
from conftest import apkg_notes, built, deckgen, import_apkg

CARDS = 7  # notes in tests/fixtures/deck


def note_by_title(col: Any, title: str) -> Any:
    [note_id] = col.find_notes(f'"Title:{title}"')
    return col.get_note(note_id)


def answer_first_card(col: Any, deck: str) -> int:
    col.decks.select(col.decks.id_for_name(deck))
    card = col.get_card(col.sched.get_queued_cards().cards[0].card.id)
    card.start_timer()
    col.sched.answerCard(card, 3)
    return int(card.nid)


def deckgen_note_types(col: Any) -> list[str]:
    return sorted(m["name"] for m in col.models.all() if m["name"].startswith("deckgen"))


def test_every_note_imports_into_its_deck(project: Path, collection: Any) -> None:
    import_apkg(collection, built(project))
    assert collection.note_count() == CARDS
    assert collection.find_notes('"deck:Test Deck::Probability::Rules"')
    assert len(collection.find_notes('"deck:Test Deck::Statistics"')) == 4
    # A reversed note makes two cards and the two-deletion cloze makes two: 7 notes, 9 cards.
    assert collection.card_count() == 9
    assert deckgen_note_types(collection) == [
        "deckgen Basic",
        "deckgen Basic (and reversed card)",
        "deckgen Cloze",
    ]
    assert set(note_by_title(collection, "Sample mean").tags) == {"stats", "basics"}


def test_fields_carry_mathjax_with_latex_untouched(project: Path, collection: Any) -> None:
    import_apkg(collection, built(project))
    note = note_by_title(collection, "Tricky LaTeX")
    back = note["Back"]
    assert "$" not in back
    assert r"\(a_1 * b_2 &lt; c\)" in back
    matrix = r"\begin{pmatrix} a_1 & b_{2} \\ \{c\} & d \end{pmatrix}"
    assert "\\[" + matrix + "\\]" in html.unescape(back)
    assert "<table>" in note_by_title(collection, "Error types")["Back"]
    assert 'class="code"' in note_by_title(collection, "Code")["Back"]
    # Punctuation after inline math is kept on the formula's line.
    front = note_by_title(collection, "Sample mean")["Front"]
    assert r'<span class="nowrap">\(x_1, \dots, x_n\)?</span>' in front


def test_cloze_math_ending_in_braces_keeps_the_deletion_whole(
    project: Path, collection: Any
) -> None:
    import_apkg(collection, built(project))
    note = note_by_title(collection, "Standard error")
    text = note["Text"]
    assert r"{{c1::\(\frac{\sigma}{\sqrt{n} }\)}}" in text
    assert r"{{c2::\(1/\sqrt{n}\)::a power of n}}" in text
    card = next(c for c in note.cards() if c.ord == 0)
    question = card.question()
    assert "[...]" in question and r"\sqrt{n} }" not in question  # c1 hidden whole
    assert r"\frac{\sigma}{\sqrt{n} }" in card.answer()


def test_notes_show_under_the_answer_only(project: Path, collection: Any) -> None:
    import_apkg(collection, built(project))
    basic = note_by_title(collection, "Sample mean").cards()[0]
    assert "Deviations from the mean" not in basic.question()
    answer = basic.answer()
    assert answer.index("The average") < answer.index('<div class="notes">')
    assert "Deviations from the mean sum to zero" in answer
    cloze = note_by_title(collection, "Standard error").cards()[0]
    assert "Quadrupling" not in cloze.question()
    assert '<div class="notes">' in cloze.answer() and "Quadrupling" in cloze.answer()
    # The reversed card asks with the Back field: its notes are inside the part CSS hides.
    reverse = next(c for c in note_by_title(collection, "Bayes* theorem").cards() if c.ord == 1)
    question = reverse.question()
    hidden = question[question.index('class="question reverse"') :]
    assert "base-rate neglect" in hidden
    assert "base-rate neglect" in reverse.answer().split('class="reverse-notes"')[1]


def test_images_land_in_media_under_content_hashed_names(project: Path, collection: Any) -> None:
    import_apkg(collection, built(project))
    back = note_by_title(collection, "Normal curve")["Back"]
    [name] = re.findall(r'src="([^"]+)"', back)
    assert re.fullmatch(r"deckgen-[0-9a-f]{16}\.png", name)
    media = Path(collection.media.dir()) / name
    assert media.read_bytes() == (project / "cards/figures/dot.png").read_bytes()


def test_reimport_after_edits_updates_in_place_and_keeps_reviews(
    project: Path, collection: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "1700000000")
    import_apkg(collection, built(project))
    reviewed = answer_first_card(collection, "Test Deck::Statistics")
    assert collection.db.scalar("select count() from revlog") == 1
    bayes_id = note_by_title(collection, "Bayes* theorem").id

    stats = project / "cards/01-statistics.md"
    rules = project / "cards/probability/02-rules.md"
    text = stats.read_text()
    text = text.replace("The average of the observations:", "The arithmetic mean:")
    text = text.replace("Which characters must survive?", "Which LaTeX must survive untouched?")
    stats.write_text(text)
    # Move the Bayes card to a new file in another folder.
    moved = rules.read_text().split("## Normal curve")
    rules.write_text("## Normal curve".join([moved[0].split("## Bayes")[0], moved[1]]))
    bayes = "## Bayes" + moved[0].split("## Bayes")[1]
    (project / "cards/moved.md").write_text("---\ndeck: Probability::Rules\n---\n\n" + bayes)

    monkeypatch.setenv("SOURCE_DATE_EPOCH", "1700000100")
    import_apkg(collection, built(project))

    assert collection.note_count() == CARDS
    assert "The arithmetic mean:" in note_by_title(collection, "Sample mean")["Back"]
    assert (
        "Which LaTeX must survive untouched?" in note_by_title(collection, "Tricky LaTeX")["Front"]
    )
    assert note_by_title(collection, "Bayes* theorem").id == bayes_id  # moved, same note
    assert collection.db.scalar("select count() from revlog") == 1
    assert collection.get_note(reviewed).cards()[0].reps == 1
    assert len(deckgen_note_types(collection)) == 3


def test_unchanged_rebuild_keeps_mod_times_and_bytes(
    project: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "1700000000")
    apkg = built(project)
    first_bytes, first = apkg.read_bytes(), apkg_notes(apkg)
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "1750000000")
    assert apkg_notes(built(project)) == first
    assert apkg.read_bytes() == first_bytes


def test_only_the_edited_note_gets_a_newer_mod_time(
    project: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "1700000000")
    before = apkg_notes(built(project))
    stats = project / "cards/01-statistics.md"
    stats.write_text(stats.read_text().replace("The average of the observations:", "The mean:"))
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "1700000500")
    after = apkg_notes(built(project))
    changed = {guid for guid in before if before[guid][0] != after[guid][0]}
    assert len(changed) == 1
    [guid] = changed
    assert after[guid][0] == 1700000500
    assert "The mean:" in after[guid][1][2]


def test_user_edits_in_anki_survive_an_unchanged_rebuild(project: Path, collection: Any) -> None:
    apkg = built(project)
    import_apkg(collection, apkg)
    note = note_by_title(collection, "Sample mean")
    note["Back"] = "my own words"
    collection.update_note(note)
    assert deckgen("build").exit_code == 0
    import_apkg(collection, apkg)
    assert note_by_title(collection, "Sample mean")["Back"] == "my own words"


def test_a_card_deleted_and_restored_keeps_its_time_and_the_users_edit(
    project: Path, collection: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "1700000000")
    apkg = built(project)
    import_apkg(collection, apkg)
    [(guid, (first_mod, _))] = [
        (g, n) for g, n in apkg_notes(apkg).items() if n[1][0] == "Sample mean"
    ]
    note = note_by_title(collection, "Sample mean")
    note["Back"] = "my own words"
    collection.update_note(note)
    # the edit is newer than the build that made the note, older than the builds below
    collection.db.execute("update notes set mod = ? where id = ?", 1700000050, note.id)

    stats = project / "cards/01-statistics.md"
    original = stats.read_text()
    card = "## Sample mean" + original.split("## Sample mean")[1].split("\n## ")[0]
    stats.write_text(original.replace(card, ""))  # deleted (a branch switch, a revert ...)
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "1700000100")
    assert guid not in apkg_notes(built(project))
    stats.write_text(original)  # ... and restored
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "1700000200")
    apkg = built(project)
    assert apkg_notes(apkg)[guid][0] == first_mod
    import_apkg(collection, apkg)
    assert note_by_title(collection, "Sample mean")["Back"] == "my own words"


def test_prune_forgets_only_deleted_cards(project: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "1700000000")
    built(project)
    lock = project / "cards/deckgen.lock"
    stats = project / "cards/01-statistics.md"
    original = stats.read_text()
    card = "## Sample mean" + original.split("## Sample mean")[1].split("\n## ")[0]
    stats.write_text(original.replace(card, ""))
    built(project)
    assert '"note:sample-mean"' in lock.read_text()  # kept while the card is away
    result = deckgen("prune")
    assert result.exit_code == 0, result.output
    assert "removed 1 stamp of deleted cards" in result.output
    assert '"note:sample-mean"' not in lock.read_text()
    assert lock.read_text().count('"note:') == CARDS - 1
