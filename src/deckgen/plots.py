"""Render the deck's plots with Matplotlib: SVG for print, PNG (day and night) for Anki.

Each plot is drawn once: files are kept under the cache folder, named by the plot's key, which
hashes everything that decides the picture. A plot whose key has files there is not redrawn.
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from deckgen import cache
from deckgen.clock import Timeout, time_limit
from deckgen.errors import Problem, raise_if_any
from deckgen.images import is_self_contained_svg
from deckgen.plotspec import Plot

log = logging.getLogger(__name__)


MAX_PLOTS = 300
DRAW_SECONDS = 60.0  # per plot; the shipped ones take a second or two


class Undrawable(Exception):
    """The plot's formula gives no drawable numbers at the declared parameters."""


@dataclass(frozen=True)
class Figure:
    """The files of one plot."""

    svg: bytes
    png: bytes
    png_night: bytes

    def media_name(self, night: bool = False) -> str:
        """The drawing's name in Anki's media folder, from its pixels: a new deckgen that draws
        the same picture changes no note (and Anki keeps one file per picture)."""
        digest = hashlib.sha256(self.png_night if night else self.png).hexdigest()[:16]
        return f"deckgen-plot-{digest}{'-night' if night else ''}.png"


@dataclass(frozen=True)
class Figures:
    """Every plot's files by key, and how many were drawn rather than read from the cache."""

    by_key: dict[str, Figure]
    drawn: int = 0

    def __getitem__(self, plot: Plot) -> Figure:
        return self.by_key[plot.key]


def render(plots: Iterable[Plot], cache_dir: Path) -> Figures:
    """Return the files of every plot, drawing only those the cache does not hold."""
    plots = list(plots)
    if len(plots) > MAX_PLOTS:  # each may take up to DRAW_SECONDS
        raise_if_any([Problem(plots[MAX_PLOTS].loc, f"more than {MAX_PLOTS} plots in the deck")])
    folder = cache_dir / "plots"
    found: dict[str, Figure] = {}
    drawn, problems = 0, []
    for plot in plots:
        if plot.key in found:
            continue
        figure = _cached(folder, plot.key)
        if figure is None:
            try:
                figure = _draw(plot)
            except Undrawable as err:
                problems.append(Problem(plot.loc, f"cannot draw this {plot.kind} plot: {err}"))
                continue
            _store(folder, plot.key, figure)
            drawn += 1
        found[plot.key] = figure
    raise_if_any(problems)
    log.info("%d plots drawn, %d from the cache", drawn, len(found) - drawn)
    return Figures(found, drawn)


_SUFFIXES = (".svg", ".png", "-night.png")


def _cached(folder: Path, key: str) -> Figure | None:
    """Return the plot's files from the cache if they are all there and look right."""
    files = [cache.get(folder, f"{key}{suffix}") for suffix in _SUFFIXES]
    if any(data is None for data in files):
        return None  # not drawn yet, or damaged (its SHA-256 does not match)
    figure = Figure(*(data or b"" for data in files))
    # A tampered file is drawn again: a cached SVG must not point outside itself.
    png = b"\x89PNG\r\n\x1a\n"
    if not (
        is_self_contained_svg(figure.svg)
        and figure.png.startswith(png)
        and figure.png_night.startswith(png)
    ):
        log.info("plot %s in the cache is damaged: drawing it again", key)
        return None
    return figure


def _store(folder: Path, key: str, figure: Figure) -> None:
    """Keep the plot's files (a cache that cannot be written only costs a drawing next time)."""
    for suffix, data in zip(_SUFFIXES, (figure.svg, figure.png, figure.png_night), strict=True):
        cache.put(folder, f"{key}{suffix}", data)


def _draw(plot: Plot) -> Figure:
    # slow to import (Matplotlib, SymPy): only when a plot must be drawn
    from deckgen import charts
    from deckgen.symbolic import CheckError

    log.info("drawing the %s plot at %s", plot.kind, plot.loc)
    try:
        with time_limit(DRAW_SECONDS) as clock:
            figure = Figure(*charts.files(plot))
    except (charts.DrawError, CheckError, ArithmeticError) as err:
        raise Undrawable(str(err)) from None
    except Timeout:
        pass
    if clock.expired:
        raise Undrawable(f"it takes longer than {DRAW_SECONDS:.0f} s to draw: ask for less")
    return figure
