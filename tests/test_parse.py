"""Card files to Card records: front matter, headings, ids, types, sides and their lines."""

from __future__ import annotations

from pathlib import Path

import pytest

from deckgen.ids import slugify, with_id
from deckgen.parse import CardFile, read_file


def parse(tmp_path: Path, body: str, front_matter: str = "deck: A::B\ntags: [x, y-z]") -> CardFile:
    path = tmp_path / "topic.md"
    path.write_text(f"---\n{front_matter}\n---\n{body}")
    return read_file(path)


def test_cards_split_at_level_two_headings(tmp_path: Path) -> None:
    file = parse(
        tmp_path,
        "\n# File title\n\n## First {#one}\n\nQuestion?\n\nA: Answer.\n\nMore answer.\n\n"
        "## Second {#two type=reversed}\n\nA: Only an answer.\n",
    )
    assert file.problems == ()
    first, second = file.cards
    assert (first.id, first.title, first.kind) == ("one", "First", "basic")
    assert first.front.text == "Question?"
    assert first.back.text == "Answer.\n\nMore answer."
    assert (first.loc.line, first.front.loc.line, first.back.loc.line) == (8, 10, 12)
    assert (second.kind, second.front.text, second.deck, second.tags) == (
        "reversed",
        "",
        "A::B",
        ("x", "y-z"),
    )


def test_heading_inside_code_or_a_list_does_not_start_a_card(tmp_path: Path) -> None:
    body = "\n## Only card {#only}\n\nA: Code:\n\n```sh\n## not a heading\n```\n\n- ## nor this\n"
    file = parse(tmp_path, body)
    assert file.problems == ()
    [card] = file.cards
    assert "## not a heading" in card.back.text


def test_answer_marker_only_counts_at_the_top_level(tmp_path: Path) -> None:
    body = "\n## Quoted {#q}\n\n> A: not the answer\n\nA: the answer\n"
    [card] = parse(tmp_path, body).cards
    assert card.front.text == "> A: not the answer"
    assert card.back.text == "the answer"


def test_notes_follow_the_answer_and_are_kept_apart(tmp_path: Path) -> None:
    body = (
        "\n## Mean {#m}\n\nWhat is it?\n\nA: The average.\n\nNotes: Why it matters.\n\nMore.\n"
        "\n## Gap {#g type=cloze}\n\nThe {{c1::mean}}.\n\nNotes: Extra thought.\n"
    )
    file = parse(tmp_path, body)
    assert file.problems == ()
    basic, cloze = file.cards
    assert (basic.front.text, basic.back.text) == ("What is it?", "The average.")
    assert (basic.notes.text, basic.notes.loc.line) == ("Why it matters.\n\nMore.", 12)
    assert (cloze.front.text, cloze.back.text, cloze.notes.text) == (
        "The {{c1::mean}}.",
        "",
        "Extra thought.",
    )


def test_a_card_without_notes_has_empty_notes(tmp_path: Path) -> None:
    [card] = parse(tmp_path, "\n## Mean {#m}\n\nA: The average; Notes: not a marker here.\n").cards
    assert card.notes.text == "" and card.back.text == "The average; Notes: not a marker here."


@pytest.mark.parametrize(
    ("body", "message", "line"),
    [
        ("Q?\n\nNotes: early.\n\nA: late.", "'Notes:' comes before the answer", 10),
        ("Q?\n\nA: answer.\n\nNotes:", "has empty notes after 'Notes:'", 12),
    ],
)
def test_misplaced_or_empty_notes_are_errors(
    tmp_path: Path, body: str, message: str, line: int
) -> None:
    file = parse(tmp_path, f"\n## Mean {{#m}}\n\n{body}\n")
    assert file.cards == ()
    [problem] = file.problems
    assert message in problem.message and problem.loc.line == line


def test_cloze_card_needs_no_answer(tmp_path: Path) -> None:
    [card] = parse(tmp_path, "\n## Gap {#g type=cloze}\n\nThe {{c1::mean}} of $x$.\n").cards
    assert card.kind == "cloze" and card.back.text == ""


def test_card_without_id_parses_with_none(tmp_path: Path) -> None:
    [card] = parse(tmp_path, "\n## New card\n\nA: x\n").cards
    assert card.id is None


def test_a_card_can_be_left_off_the_cheatsheet(tmp_path: Path) -> None:
    body = (
        "\n## Kept {#k}\n\nA: x\n\n"
        "## Handout only {#h type=cloze cheatsheet=no}\n\nThe {{c1::y}}.\n"
    )
    kept, handout_only = parse(tmp_path, body).cards
    assert kept.cheatsheet and not handout_only.cheatsheet and handout_only.kind == "cloze"


@pytest.mark.parametrize(
    ("attrs", "message"),
    [
        ("#a cheatsheet=maybe", "cheatsheet=maybe: write cheatsheet=no"),
        ("#a cheatsheet=no cheatsheet=yes", "gives 'cheatsheet=' twice"),
        ("#a print=no", "expected #id, type=... or cheatsheet=no"),
    ],
)
def test_a_wrong_cheatsheet_attribute_is_an_error(tmp_path: Path, attrs: str, message: str) -> None:
    file = parse(tmp_path, f"\n## Card {{{attrs}}}\n\nA: x\n")
    assert file.cards == ()
    [problem] = file.problems
    assert problem.loc.line == 6 and message in problem.message


@pytest.mark.parametrize(
    ("title", "slug"),
    [
        ("Bayes' theorem", "bayes-theorem"),
        (r"The $\chi^2$ test", "the-chi-2-test"),
        ("Écart-type (σ)", "ecart-type"),
        ("!!!", "card"),
        (
            "A very long title that keeps going well past the forty character limit",
            "a-very-long-title-that-keeps-going-well",
        ),
    ],
)
def test_ids_are_made_from_titles(title: str, slug: str) -> None:
    assert slugify(title) == slug


@pytest.mark.parametrize(
    ("heading", "expected"),
    [
        ("## Title", "## Title {#t}"),
        ("## Title ##", "## Title {#t}"),
        ("## Title {type=cloze}", "## Title {#t type=cloze}"),
    ],
)
def test_ids_are_written_into_the_heading(heading: str, expected: str) -> None:
    assert with_id(heading, "t") == expected


def test_text_after_a_title_between_cards_is_not_dropped_silently(tmp_path: Path) -> None:
    body = "\n## One {#one}\n\nA: x\n\n# Part two\n\nStray words.\n\n## Two {#two}\n\nA: y\n"
    file = parse(tmp_path, body)
    assert [card.back.text for card in file.cards] == ["x", "y"]
    [problem] = file.problems
    assert (problem.loc.line, problem.message) == (
        12,
        "text outside any card: each card starts with a '## ' heading",
    )


@pytest.mark.parametrize("heading", ["## Mean {#my id}", "## Mean {#ok type = cloze}"])
def test_unreadable_attribute_block_is_an_error_not_part_of_the_title(
    tmp_path: Path, heading: str
) -> None:
    file = parse(tmp_path, f"\n{heading}\n\nA: x\n")
    assert file.cards == ()
    [problem] = file.problems
    assert problem.loc.line == 6 and "cannot read the attribute block" in problem.message
