"""Print how long drawing the shipped deck's plots takes: python benchmarks/plots.py

Drawing happens in-process (the build's `plots.render`), on the plots of a copy of cards/:
every plot cold, then all from the cache, then with one plot edited. Also the slowest kinds.
"""

from __future__ import annotations

import shutil
import tempfile
import time
from pathlib import Path

from deckgen import plots
from deckgen.build import load

REPO = Path(__file__).resolve().parent.parent


def timed(cards: Path, cache: Path) -> tuple[float, plots.Figures]:
    deck, _ = load(cards, write_ids=False)
    start = time.perf_counter()
    figures = plots.render(deck.plots, cache)
    return time.perf_counter() - start, figures


def main() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        cards, cache = Path(tmp) / "cards", Path(tmp) / "cache"
        shutil.copytree(REPO / "cards", cards)
        deck, _ = load(cards, write_ids=False)
        print(f"{len(deck.plots)} plots in the shipped deck")
        seconds, figures = timed(cards, cache)
        print(f"  cold (every plot drawn)    {seconds:6.2f} s   ({figures.drawn} drawn)")
        seconds, figures = timed(cards, cache)
        print(f"  cached                     {seconds:6.2f} s   ({figures.drawn} drawn)")
        card = cards / "01-statistics/10-discrete-distributions.md"
        card.write_text(card.read_text().replace("lambda: [1, 4, 10]", "lambda: [1, 4, 9]"))
        seconds, figures = timed(cards, cache)
        print(f"  one plot edited            {seconds:6.2f} s   ({figures.drawn} drawn)")
        print("slowest plots, drawn alone:")
        for seconds, plot in sorted(_each(deck.plots, Path(tmp) / "each"), reverse=True)[:5]:
            print(f"  {plot.kind:<14} {plot.loc}  {seconds:6.2f} s")


def _each(chosen: list[plots.Plot], folder: Path) -> list[tuple[float, plots.Plot]]:
    found = []
    for index, plot in enumerate(chosen):
        start = time.perf_counter()
        plots.render([plot], folder / str(index))
        found.append((time.perf_counter() - start, plot))
    return found


if __name__ == "__main__":
    main()
