"""The commands as a user runs them: build, check, ids, and their options."""

from __future__ import annotations

import logging
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import deckgen


def test_build_writes_both_outputs_and_a_summary(project: Path) -> None:
    result = deckgen("build")
    assert result.exit_code == 0
    assert (project / "build/test-deck.apkg").stat().st_size > 0
    assert (project / "build/test-deck.pdf").read_bytes().startswith(b"%PDF")
    assert "7 cards in 2 decks -> build/test-deck.apkg, build/test-deck.pdf" in result.output


def test_only_and_out_options(project: Path) -> None:
    result = deckgen("build", "--only", "pdf", "--out", "elsewhere")
    assert result.exit_code == 0
    written = [p.name for p in (project / "elsewhere").iterdir()]
    assert sorted(written) == [".cache", "test-deck.pdf"]  # .cache: verification results
    assert not (project / "build").exists()


def test_ids_are_written_by_build_and_required_by_check(project: Path) -> None:
    card_file = project / "cards/01-statistics.md"
    card_file.write_text(card_file.read_text() + "\n## Sample variance\n\nA: $s^2$\n")
    before = card_file.read_text()
    heading = before.splitlines().index("## Sample variance") + 1

    check = deckgen("check")
    assert check.exit_code == 1
    assert f"cards/01-statistics.md:{heading}: card 'Sample variance' has no id" in check.output
    assert card_file.read_text() == before  # check writes nothing

    build = deckgen("build")
    assert build.exit_code == 0
    assert "wrote ids into 1 card heading" in build.output
    assert "## Sample variance {#sample-variance}\n" in card_file.read_text()
    assert card_file.read_text().replace(" {#sample-variance}", "") == before
    assert deckgen("check").exit_code == 0


def test_ids_command_avoids_taken_ids(project: Path) -> None:
    card_file = project / "cards/new.md"
    card_file.write_text("---\ndeck: Statistics\n---\n\n## Sample mean\n\nA: again, differently\n")
    result = deckgen("ids")
    assert result.exit_code == 0
    assert "## Sample mean {#sample-mean-2}" in card_file.read_text()


def test_check_reports_counts_and_writes_nothing(project: Path) -> None:
    result = deckgen("check")
    assert result.exit_code == 0
    assert "7 cards in 2 decks: no problems" in result.output
    assert not (project / "build").exists()
    assert not (project / "cards/deckgen.lock").exists()


def test_console_script_is_installed() -> None:
    script = Path(sys.executable).parent / "deckgen"
    result = subprocess.run([script, "--help"], capture_output=True, text=True, check=True)
    assert "build" in result.stdout and "check" in result.stdout


def test_a_renamed_deck_title_is_pointed_out(
    project: Path, caplog: pytest.LogCaptureFixture
) -> None:
    assert deckgen("build", "--only", "apkg").exit_code == 0
    settings = project / "cards/deck.yaml"
    settings.write_text(settings.read_text().replace("Test Deck", "Exam Deck"))
    with caplog.at_level(logging.WARNING):
        assert deckgen("build", "--only", "apkg").exit_code == 0
    assert (
        "cards/deck.yaml:1: the deck title changed from 'Test Deck' to 'Exam Deck': "
        "Anki keeps the cards already imported in 'Test Deck'" in caplog.text
    )
    caplog.clear()
    with caplog.at_level(logging.WARNING):
        assert deckgen("build", "--only", "apkg").exit_code == 0
    assert "title changed" not in caplog.text  # said once, then the lock knows the new title


def test_new_starts_a_card_file_that_builds(project: Path) -> None:
    result = deckgen("new", "cards/statistics/12-ab-testing.md", "--deck", "Statistics::A/B: tests")
    assert result.exit_code == 0, result.output
    assert "card 'new-card'" in result.output
    text = (project / "cards/statistics/12-ab-testing.md").read_text()
    assert text.startswith('---\ndeck: "Statistics::A/B: tests"\n') and "\nNotes: " in text
    assert deckgen("check").exit_code == 0  # it has an id, a question, an answer and notes
    assert "card 'new-card-2'" in deckgen("new", "cards/more.md").output  # ids stay unique
    assert 'deck: "More"' in (project / "cards/more.md").read_text()


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["cards/01-statistics.md"], "cards/01-statistics.md:0: already exists"),
        (["elsewhere/x.md"], "elsewhere/x.md:0: not inside the cards folder"),
        (["cards/x.txt"], "cards/x.txt:0: a card file's name ends in .md"),
        (["cards/x.md", "--deck", "A::::B"], "'deck' must be a deck name"),
    ],
)
def test_new_refuses_what_it_cannot_write_well(
    project: Path, args: list[str], message: str
) -> None:
    result = deckgen("new", *args)
    assert result.exit_code == 1 and message in result.output
    assert not (project / "cards/x.md").exists() and not (project / "elsewhere").exists()
