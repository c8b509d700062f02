"""Print how long the shipped deck takes to check and build: python benchmarks/build.py

Each figure is the median of a few runs, each a fresh process as a user runs the command, on a
copy of cards/. Targets (issue 11, this 2-core machine): no-op rebuild <= 0.5 s; one card edited
-> .apkg <= 1 s, all outputs <= 5 s; cold full build <= 60 s.
"""

from __future__ import annotations

import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
RUNS = 3
EDITED = "01-statistics/01-central-tendency.md"


def timed(args: list[str], cwd: Path) -> float:
    start = time.perf_counter()
    subprocess.run(
        [sys.executable, "-m", "deckgen", *args], cwd=cwd, check=True, capture_output=True
    )
    return time.perf_counter() - start


def median(args: list[str], cwd: Path, before: Callable[[], object] = lambda: None) -> float:
    runs = []
    for _ in range(RUNS):
        before()
        runs.append(timed(args, cwd))
    return statistics.median(runs)


def main() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        shutil.copytree(REPO / "cards", work / "cards")
        cards = sum(
            1 for p in (work / "cards").rglob("*.md") for line in p.open() if line.startswith("## ")
        )
        edited = work / "cards" / EDITED
        edits = iter(range(1000))

        def edit_one_card() -> None:
            text = edited.read_text().replace("Only the mode", f"Only the mode ({next(edits)})", 1)
            edited.write_text(text)

        def cold() -> None:
            timed(["clean"], work)

        print(f"shipped deck: {cards} cards; median of {RUNS} runs, each a new process")
        figures = [
            ("deckgen --help", ["--help"], lambda: None),
            ("deckgen check", ["check"], lambda: None),
            ("build, cold (empty cache)", ["build"], cold),
            ("build, nothing changed", ["build"], lambda: None),
            ("build --only apkg, one card edited", ["build", "--only", "apkg"], edit_one_card),
            ("build, one card edited", ["build"], edit_one_card),
        ]
        for label, args, before in figures:
            print(f"  {label:<36} {median(args, work, before):6.2f} s")


if __name__ == "__main__":
    main()
