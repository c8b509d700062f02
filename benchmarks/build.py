"""Print how long the shipped deck takes to check and build: python benchmarks/build.py

Each figure is a fresh process, as a user runs the command, on a copy of cards/.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
RUNS = 3


def timed(args: list[str], cwd: Path) -> float:
    start = time.perf_counter()
    subprocess.run(
        [sys.executable, "-m", "deckgen", *args], cwd=cwd, check=True, capture_output=True
    )
    return time.perf_counter() - start


def main() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        shutil.copytree(REPO / "cards", work / "cards")
        cards = sum(
            1 for p in (work / "cards").rglob("*.md") for line in p.open() if line.startswith("## ")
        )
        print(f"shipped deck: {cards} cards; best of {RUNS} runs, each a new process")
        for label, args in [
            ("deckgen --help", ["--help"]),
            ("deckgen check", ["check"]),
            ("deckgen build --only apkg", ["build", "--only", "apkg"]),
            ("deckgen build --only pdf", ["build", "--only", "pdf"]),
            ("deckgen build", ["build"]),
        ]:
            best = min(timed(args, work) for _ in range(RUNS))
            print(f"  {label:<28} {best:6.2f} s")


if __name__ == "__main__":
    main()
