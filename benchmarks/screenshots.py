"""Write PNG screenshots of cards as Anki shows them: python benchmarks/screenshots.py [CARD ...]

Builds a copy of cards/, imports it into a real Anki collection and shows each chosen side in
headless Chromium with MathJax 3.2.2, exactly as tests/test_browser.py does, at 380 px and 900 px,
light and night. A CARD is a card id (every card of its note), or `id/2`, `id/c3` for one card
of a reversed or cloze note; none means every card. Each file is
`<out>/<card>_<side>_<width>_<mode>.png`, and the problems the test would report are printed.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import tempfile
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO / "tests"))  # the reviewer page lives with the test that uses it

from reviewer import (  # noqa: E402 (needs the path above)
    INSTALL_HELP,
    VIEWS,
    Side,
    anki_sides,
    build_shipped_deck,
    missing_tools,
    reviewer,
)


def chosen(sides: list[Side], cards: list[str]) -> list[Side]:
    """Return the sides of the named cards (all if none), failing on a name that matches none."""
    if not cards:
        return sides
    unknown = [name for name in cards if not any(_is(side, name) for side in sides)]
    if unknown:
        known = " ".join(sorted({side.card for side in sides}))
        sys.exit(f"no card {', '.join(unknown)}; the deck has: {known}")
    return [side for side in sides if any(_is(side, name) for name in cards)]


def _is(side: Side, name: str) -> bool:
    """Tell whether `side` belongs to the card `name` (`id/2`) or to a note of that id."""
    return name in (side.card, side.card.split("/")[0])


async def shoot(sides: list[Side], media: Path, out: Path, scale: float) -> int:
    """Write one PNG per side and view; print each side's problems; return how many."""
    count = 0
    async with reviewer(media, scale) as shown:
        for view in VIEWS:
            for side in sides:
                name = f"{side.card.replace('/', '_')}_{side.side}_{view.width}_{view.mode}.png"
                for problem in await shown.screenshot(side, view, out / name):
                    print(f"{name}: {problem}")
                    count += 1
    return count


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("cards", nargs="*", help="card ids (default: every card)")
    parser.add_argument("--out", type=Path, default=REPO / "build" / "screenshots")
    parser.add_argument("--scale", type=float, default=2, help="device pixels per CSS px")
    options = parser.parse_args()
    if missing := missing_tools():
        sys.exit("missing: " + "; ".join(missing) + "\n" + INSTALL_HELP)
    options.out.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        sides, media = anki_sides(build_shipped_deck(root), root / "anki", root / "cards")
        sides = chosen(sides, options.cards)
        problems = asyncio.run(shoot(sides, media, options.out, options.scale))
    print(f"{len(sides) * len(VIEWS)} screenshots in {options.out}, {problems} problems")


if __name__ == "__main__":
    main()
