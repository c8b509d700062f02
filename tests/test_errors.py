"""Bad sources: every problem as `path:line: message`, exit 1, no traceback, outputs untouched."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import FIXTURES, build_test_deck, deckgen

BAD = FIXTURES / "bad"

CASES = [
    ("broken-front-matter.md", 3, "invalid YAML"),
    ("no-front-matter.md", 1, "missing front matter"),
    ("missing-deck.md", 1, "'deck' must be a deck name"),
    ("text-before-first-card.md", 5, "text outside any card"),
    ("no-back.md", 5, "card 'Card with a question only' has no back"),
    ("unknown-type.md", 5, "unknown card type 'clozed'"),
    ("unclosed-display-math.md", 11, "unclosed $$"),
    ("bad-latex.md", 9, "cannot typeset formula"),
    ("missing-image.md", 10, "image 'figures/nope.png' not found"),
    ("image-outside.md", 9, "image '../../outside.png' is outside the cards folder"),
    ("cloze-without-deletion.md", 5, "cloze card has no deletion"),
    ("unclosed-cloze.md", 7, "cloze deletion is not closed"),
    ("wrong-formula.md", 14, "mean: at λ="),
]


@pytest.fixture(scope="module")
def prebuilt(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A project with the test deck built once, to copy into each test."""
    root = build_test_deck(tmp_path_factory.mktemp("prebuilt"))
    (root / "outside.png").write_bytes((FIXTURES / "deck/figures/dot.png").read_bytes())
    return root


@pytest.fixture
def built_project(prebuilt: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    project = tmp_path / "project"
    shutil.copytree(prebuilt, project)
    monkeypatch.chdir(project)
    return project


def snapshot(project: Path) -> dict[str, tuple[bytes, int]]:
    outputs = [f for f in sorted((project / "build").iterdir()) if f.is_file()]
    files = [*outputs, project / "cards/deckgen.lock"]
    return {f.name: (f.read_bytes(), f.stat().st_mtime_ns) for f in files}


@pytest.mark.parametrize(("name", "line", "message"), CASES, ids=[c[0] for c in CASES])
def test_bad_source_is_reported_and_outputs_stay(
    built_project: Path, name: str, line: int, message: str
) -> None:
    (built_project / "cards/bad").mkdir()
    shutil.copy(BAD / name, built_project / "cards/bad" / name)
    before = snapshot(built_project)
    result = deckgen("build")
    assert result.exit_code == 1
    assert f"cards/bad/{name}:{line}: {message}" in result.output
    assert "Traceback" not in result.output
    assert snapshot(built_project) == before


def test_all_problems_are_reported_at_once(built_project: Path) -> None:
    (built_project / "cards/bad").mkdir()
    for name in ("no-back.md", "missing-image.md"):
        shutil.copy(BAD / name, built_project / "cards/bad" / name)
    result = deckgen("check")
    assert result.exit_code == 1
    assert "cards/bad/no-back.md:5:" in result.output
    assert "cards/bad/missing-image.md:10:" in result.output
    assert result.output.rstrip().endswith("2 problems found")


def test_duplicate_ids_name_both_places(built_project: Path) -> None:
    copy = built_project / "cards/copy.md"
    copy.write_text("---\ndeck: Statistics\n---\n\n## Another mean {#sample-mean}\n\nA: again\n")
    result = deckgen("build")
    assert result.exit_code == 1
    assert (
        "cards/01-statistics.md:8: duplicate card id 'sample-mean' (also used at cards/copy.md:5)"
        in result.output
    )
    assert (
        "cards/copy.md:5: duplicate card id 'sample-mean' (also used at cards/01-statistics.md:8)"
        in (result.output)
    )


def test_broken_deck_settings(built_project: Path) -> None:
    (built_project / "cards/deck.yaml").write_text("id: x\ntitle: [unclosed\n")
    result = deckgen("build")
    assert result.exit_code == 1
    assert "cards/deck.yaml:" in result.output and "invalid YAML" in result.output


def test_real_process_exits_1_without_traceback(built_project: Path) -> None:
    shutil.copy(BAD / "no-back.md", built_project / "cards/no-back.md")
    result = subprocess.run(
        [sys.executable, "-m", "deckgen", "build"], capture_output=True, text=True, check=False
    )
    assert result.returncode == 1
    assert result.stderr.startswith(
        "cards/no-back.md:5: card 'Card with a question only' has no back"
    )
    assert "Traceback" not in result.stderr
