"""Print how long formula verification takes: python benchmarks/verify.py

Two decks: the shipped deck (cards/) and the external test deck of SciPy's distributions and a
first course's identities (tests/fixtures/distributions/). For each: cold (no cache), fully
cached, and after editing one formula's verify block. Each figure is a fresh `deckgen verify`
process on a copy of the deck, best of a few runs.
Targets (issue 3, shipped deck): cold <= 10 s, fully cached <= 1 s, one formula edited <= 2 s.
"""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
RUNS = 3
DECKS = [  # (what, its folder, the card file whose first verify block an edit changes)
    ("shipped deck", REPO / "cards", "01-statistics/10-discrete-distributions.md"),
    ("test deck (distributions)", REPO / "tests/fixtures/distributions", "02-continuous.md"),
]


def verify(cwd: Path) -> tuple[float, str]:
    start = time.perf_counter()
    done = subprocess.run(
        [sys.executable, "-m", "deckgen", "verify"], cwd=cwd, capture_output=True, text=True
    )
    seconds = time.perf_counter() - start
    if done.returncode != 0:
        sys.exit(done.stdout + done.stderr)
    summary = re.search(r"\d+ claims checked, \d+ from the cache", done.stdout)
    return seconds, summary.group() if summary else ""


def edit_one_formula(card: Path, counter: int) -> None:
    """Change one verified formula's block so that its claims must be checked again (a comment
    would not do: claims are cached by what they say)."""
    text = card.read_text(encoding="utf-8")
    text = text.replace("\n```verify\n", f"\n```verify\nwhere z_{{{counter}}} > 0\n", 1)
    card.write_text(text, encoding="utf-8")


def best(label: str, prepare: Callable[[int], None], work: Path) -> None:
    figures = []
    for run in range(RUNS):
        prepare(run)
        figures.append(verify(work))
    seconds, summary = min(figures)
    print(f"  {label:<26} {seconds:6.2f} s   ({summary})")


def time_deck(folder: Path, edited: str) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        shutil.copytree(folder, work / "cards")
        cache, card = work / "build/.cache", work / "cards" / edited
        best("cold (no cache)", lambda run: shutil.rmtree(cache, ignore_errors=True), work)
        best("fully cached", lambda run: None, work)
        best("after editing one formula", lambda run: edit_one_formula(card, run), work)


def main() -> None:
    print(f"deckgen verify, best of {RUNS} runs, each a new process")
    for what, folder, edited in DECKS:
        print(what)
        time_deck(folder, edited)


if __name__ == "__main__":
    main()
