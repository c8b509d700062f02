"""Cards rendered for Anki, kept between builds: a card whose text did not change is not parsed or
rendered again.

One JSON file in the build cache holds every card's rendering under a key of everything it
depends on: the card's kind and Markdown, where its sides start, its folder (image paths are
relative to it), deckgen's code and the versions of the libraries that render. The images a card
shows are read again on every build, and a changed or missing one means the card is rendered
again. Only cards with no problems are kept, so a card with a problem is always reported. The file
is checked when read (its SHA-256, then every entry's shape): anything damaged is rendered again.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable
from functools import cache as once
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path
from typing import Any
from urllib.parse import quote

from deckgen import cache, images
from deckgen.errors import SourceLoc
from deckgen.markup import DisplayFormula, InlineFormula, VerifyBlock
from deckgen.model import Rendering
from deckgen.parse import Card
from deckgen.plotspec import Plot

log = logging.getLogger(__name__)

NAME = "cards"
_LIBRARIES = ("markdown-it-py", "mdit-py-plugins", "pygments", "mathra", "pyyaml")


@once
def _engine() -> str:
    """deckgen's code and the libraries that turn Markdown into Anki HTML."""
    code = sorted(Path(__file__).parent.glob("*.py"))
    parts: list[str | bytes] = [path.read_bytes() for path in code]
    for name in _LIBRARIES:
        try:
            parts.append(f"{name}={version(name)}")
        except PackageNotFoundError:
            parts.append(f"{name}=-")
    return cache.key(*parts)


class Renders:
    """The renderings of the last build, and of this one as it goes."""

    def __init__(self, cache_dir: Path, cards_dir: Path) -> None:
        self.folder = cache_dir
        self.cards_dir = cards_dir.resolve()
        self.entries = _load(cache_dir)
        self.used: dict[str, dict[str, Any]] = {}
        self.reused = 0

    def get(self, card: Card) -> Rendering | None:
        """The card's rendering from the last build, if nothing it depends on changed."""
        key = self._key(card)
        entry = self.entries.get(key)
        if entry is None:
            return None
        try:
            rendering = self._restore(entry, card)
        except (KeyError, TypeError, ValueError, images.ImageError) as err:
            log.debug("rendering card %s again: %s", card.id, err)
            return None
        if rendering is not None:
            self.used[key] = entry
            self.reused += 1
        return rendering

    def put(self, card: Card, rendering: Rendering) -> None:
        self.used[self._key(card)] = self._dump(rendering, card)

    def save(self) -> None:
        """Keep this build's renderings (only these: cards gone or changed are dropped)."""
        if self.used != self.entries:
            data = json.dumps(self.used, sort_keys=True, ensure_ascii=False)
            cache.put(self.folder, NAME, data.encode())

    def _key(self, card: Card) -> str:
        sides = (card.front, card.back, card.notes)
        starts = [side.loc.line - card.loc.line for side in sides]
        folder = str(card.loc.path.parent.resolve())
        texts = [card.title, *(side.text for side in sides)]
        return cache.key(
            _engine(), card.kind, folder, str(self.cards_dir), json.dumps(starts), *texts
        )

    def _dump(self, rendering: Rendering, card: Card) -> dict[str, Any]:
        base = card.loc.line
        return {
            "html": [rendering.title, rendering.front, rendering.back],
            "clozes": list(rendering.clozes),
            "images": [
                [quote(str(image.source.relative_to(self.cards_dir))), image.digest]
                for image in rendering.images
            ],
            "plots": [
                [plot.kind, plot.loc.line - base, plot.options, plot.formula, plot.caption]
                for plot in rendering.plots
            ],
            "formulas": [
                [formula.latex, formula.loc.line - base, _block(formula.block, base)]
                for formula in rendering.formulas
            ],
            "inline": [
                [formula.latex, formula.loc.line - base, _block(formula.block, base)]
                for formula in rendering.inline
            ],
        }

    def _restore(self, entry: dict[str, Any], card: Card) -> Rendering | None:
        """Rebuild a rendering; None if an image it shows changed. Raises if malformed."""
        title, front, back = _strings(entry["html"], 3)
        shown = []
        for path, digest in _lists(entry["images"], 2):
            image = images.read(_string(path), self.cards_dir, self.cards_dir)
            if image.digest != digest:
                return None
            shown.append(image)
        at = card.loc.at
        plots = [
            Plot(
                _string(kind),
                at(_int(line)),
                _string(options),
                None if formula is None else _formula(formula),
                _string(caption),
            )
            for kind, line, options, formula, caption in _lists(entry["plots"], 5)
        ]
        formulas = [
            DisplayFormula(_string(latex), at(_int(line)), _restored_block(block, at))
            for latex, line, block in _lists(entry["formulas"], 3)
        ]
        inline = tuple(
            InlineFormula(_string(latex), at(_int(line)), _restored_block(block, at))
            for latex, line, block in _lists(entry["inline"], 3)
        )
        clozes = tuple(_int(n) for n in _list(entry["clozes"]))
        return Rendering(
            title, front, back, tuple(shown), tuple(plots), clozes, tuple(formulas), inline
        )


def _block(block: VerifyBlock | None, base: int) -> list[list[Any]] | None:
    return None if block is None else [[text, loc.line - base] for text, loc in block]


def _restored_block(block: Any, at: Callable[[int], SourceLoc]) -> VerifyBlock | None:
    return None if block is None else tuple((_string(t), at(_int(n))) for t, n in _lists(block, 2))


def _load(folder: Path) -> dict[str, dict[str, Any]]:
    data = cache.get(folder, NAME)
    if data is None:
        return {}
    try:
        entries = json.loads(data)
    except (ValueError, RecursionError):
        return {}
    if not isinstance(entries, dict):
        return {}
    return {key: entry for key, entry in entries.items() if isinstance(entry, dict)}


def _string(value: Any) -> str:
    if not isinstance(value, str):
        raise TypeError(f"expected text, found {type(value).__name__}")
    return value


def _int(value: Any) -> int:
    if not isinstance(value, int) or isinstance(value, bool):
        raise TypeError(f"expected a whole number, found {type(value).__name__}")
    return value


def _list(value: Any) -> list[Any]:
    if not isinstance(value, list):
        raise TypeError(f"expected a list, found {type(value).__name__}")
    return value


def _lists(value: Any, size: int) -> list[list[Any]]:
    items = _list(value)
    if not all(isinstance(item, list) and len(item) == size for item in items):
        raise ValueError(f"expected lists of {size}")
    return items


def _strings(value: Any, size: int) -> list[str]:
    items = _list(value)
    if len(items) != size:
        raise ValueError(f"expected {size} texts")
    return [_string(item) for item in items]


def _formula(value: Any) -> tuple[str, tuple[str, ...]]:
    latex, lines = _list(value)
    return _string(latex), tuple(_string(line) for line in _list(lines))
