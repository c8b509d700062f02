"""Print how long formula verification takes on the shipped deck: python benchmarks/verify.py

Targets (issue 3): cold <= 10 s, fully cached <= 1 s, after editing one formula <= 2 s.
Each figure is a fresh `deckgen verify` process on a copy of cards/, best of a few runs.
"""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
RUNS = 3


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


def edit_one_formula(cards: Path, counter: int) -> None:
    """Change one verified formula so that its claims must be checked again."""
    card = cards / "01-statistics/10-discrete-distributions.md"
    text = card.read_text(encoding="utf-8")
    text = text.replace("\n```verify\n", f"\n```verify\n% edit {counter}\n", 1)
    card.write_text(text, encoding="utf-8")


def best(label: str, prepare: object, work: Path) -> None:
    figures = []
    for run in range(RUNS):
        prepare(run)  # type: ignore[operator]
        figures.append(verify(work))
    seconds, summary = min(figures)
    print(f"  {label:<26} {seconds:6.2f} s   ({summary})")


def main() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        shutil.copytree(REPO / "cards", work / "cards")
        cache = work / "build/.cache"
        print(f"deckgen verify on the shipped deck, best of {RUNS} runs, each a new process")
        best("cold (no cache)", lambda run: shutil.rmtree(cache, ignore_errors=True), work)
        best("fully cached", lambda run: None, work)
        best("after editing one formula", lambda run: edit_one_formula(work / "cards", run), work)


if __name__ == "__main__":
    main()
