"""The PDF read back with poppler (pdftotext, pdfinfo, pdfimages): typeset, searchable, complete."""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import pytest
from conftest import deckgen

from deckgen import cheatsheet
from deckgen.build import load

REPO = Path(__file__).parent.parent


def poppler(tool: str, pdf: Path, *args: str) -> str:
    command = [tool, *args, str(pdf), *(["-"] if tool == "pdftotext" else [])]
    return subprocess.run(command, capture_output=True, text=True, check=True).stdout


@pytest.fixture
def pdf(project: Path) -> Path:
    assert deckgen("build", "--only", "pdf").exit_code == 0
    return project / "build/test-deck.pdf"


def test_title_sections_and_every_card_are_in_the_text(pdf: Path) -> None:
    text = poppler("pdftotext", pdf)
    assert "Test Deck" in text
    for section in ("Statistics", "Probability › Rules"):
        assert section in text
    for title in (
        "Sample mean",
        "Tricky LaTeX",
        "Error types",
        "Standard error",
        "Bayes' theorem",
        "Normal curve",
        "Code",
    ):
        assert title in text


def test_cheatsheet_shows_answers_and_the_handout_adds_questions_and_notes(
    project: Path,
) -> None:
    assert deckgen("build", "--only", "pdf", "--only", "handout").exit_code == 0
    assert not (project / "build/test-deck.apkg").exists()
    sheet = poppler("pdftotext", project / "build/test-deck.pdf")
    handout = poppler("pdftotext", project / "build/test-deck-handout.pdf")
    for text in (sheet, handout):
        assert "The average of the observations" in text
    for question_or_note in ("What is the sample mean", "Deviations from the mean", "Quadrupling"):
        assert question_or_note not in sheet
        assert question_or_note in handout
    # A reversed card's question is half of what it states: the cheatsheet keeps it.
    assert "How do you turn" in sheet


def test_a_card_marked_cheatsheet_no_is_only_in_the_handout_and_anki(project: Path) -> None:
    assert deckgen("build").exit_code == 0
    package = (project / "build/test-deck.apkg").read_bytes()
    [card] = [
        path for path in (project / "cards").rglob("*.md") if "{#sample-mean}" in path.read_text()
    ]
    text = card.read_text(encoding="utf-8")
    card.write_text(
        text.replace("{#sample-mean}", "{#sample-mean cheatsheet=no}"), encoding="utf-8"
    )
    assert deckgen("build").exit_code == 0
    sheet = poppler("pdftotext", project / "build/test-deck.pdf")
    handout = poppler("pdftotext", project / "build/test-deck-handout.pdf")
    assert "Sample mean" not in sheet and "Standard error" in sheet
    assert "Sample mean" in handout
    assert (project / "build/test-deck.apkg").read_bytes() == package  # Anki sees no change


def test_no_raw_latex_reaches_the_page_but_math_is_searchable(pdf: Path) -> None:
    text = poppler("pdftotext", pdf)
    for raw in (r"\frac", "$$", r"\(", r"\[", r"\sqrt", r"\begin", "{{c1::"):
        assert raw not in text
    assert "σ" in text and "√" in text  # the formulas' invisible text layer


def test_tables_code_and_clozes_render(pdf: Path) -> None:
    text = poppler("pdftotext", pdf)
    assert "Type I" in text and "Type II" in text
    assert "from scipy.stats import norm" in text
    assert "The standard error of the mean is" in text and "{{" not in text


def test_images_are_embedded(pdf: Path) -> None:
    listing = subprocess.run(
        ["pdfimages", "-list", str(pdf)], capture_output=True, text=True, check=True
    )
    images = [line for line in listing.stdout.splitlines()[2:] if line.strip()]
    assert len(images) >= 1  # the PNG figure; formulas are vector paths, not images


def test_a4_landscape_by_default_and_letter_on_request(project: Path, pdf: Path) -> None:
    assert "841.89 x 595.276 pts (A4)" in poppler("pdfinfo", pdf)
    assert deckgen("build", "--only", "pdf", "--paper", "letter").exit_code == 0
    assert "792 x 612 pts (letter)" in poppler("pdfinfo", pdf)


def test_page_numbers_are_printed(pdf: Path) -> None:
    assert re.search(r"^1 ?/ ?1$", poppler("pdftotext", pdf), re.MULTILINE)


def test_rebuild_gives_identical_pdf_bytes(project: Path, pdf: Path) -> None:
    first = pdf.read_bytes()
    assert deckgen("build", "--only", "pdf").exit_code == 0
    assert pdf.read_bytes() == first


def test_shipped_deck_fits_its_cheatsheet_budget(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # A cheatsheet, not a handout: the whole shipped deck fits 8 A4 landscape pages (issue 13),
    # its Statistics section three (issue 10).
    shutil.copytree(REPO / "cards", tmp_path / "cards")
    monkeypatch.chdir(tmp_path)
    assert deckgen("build", "--only", "pdf").exit_code == 0
    pdf = tmp_path / "build/ml-interview-prep.pdf"
    deck, _ = load(Path("cards"), write_ids=False)
    titles = {
        " ".join(note.card.title.split())
        for note in deck.notes
        if note.card.deck.startswith("Statistics") and "$" not in note.card.title
    }
    pages = int(re.search(r"Pages:\s+(\d+)", poppler("pdfinfo", pdf))[1])  # type: ignore[index]
    text = {
        page: " ".join(poppler("pdftotext", pdf, "-f", str(page), "-l", str(page)).split())
        for page in range(1, pages + 1)
    }
    with_statistics = [page for page in text if any(f"{title}:" in text[page] for title in titles)]
    assert len(titles) > 100 and with_statistics == [1, 2, 3]
    assert pages <= 8


TITLES = ("Sample mean", "Tricky LaTeX", "Error types", "Standard error", "Bayes' theorem")


def test_a_long_handout_comes_in_parts_joined_and_numbered_as_one_document(
    project: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(cheatsheet, "PART_CARDS", 2)  # the test deck's 7 cards make 4 parts
    assert deckgen("build", "--only", "handout").exit_code == 0
    handout = project / "build/test-deck-handout.pdf"
    info = poppler("pdfinfo", handout)
    pages = int(re.search(r"Pages:\s+(\d+)", info)[1])  # type: ignore[index]
    assert pages >= 4  # a part starts a page
    assert re.search(r"Title:\s+Test Deck — study handout", info)
    numbers = []
    for page in range(1, pages + 1):
        text = poppler("pdftotext", handout, "-f", str(page), "-l", str(page))
        numbers += re.findall(r"^(\d+) ?/ ?(\d+)$", text, re.MULTILINE)
        if page > 1:  # the running head goes on in every part
            assert "Test Deck study handout" in text.splitlines()[0]
    assert numbers == [(str(n), str(pages)) for n in range(1, pages + 1)]
    text = poppler("pdftotext", handout)
    assert [text.index(title) for title in TITLES] == sorted(text.index(t) for t in TITLES)
    assert text.count("Test Deck study handout") == pages  # masthead once, then running heads
    first = handout.read_bytes()
    assert deckgen("clean").exit_code == 0
    handout.unlink()
    assert deckgen("build", "--only", "handout").exit_code == 0
    assert handout.read_bytes() == first  # joined reproducibly
