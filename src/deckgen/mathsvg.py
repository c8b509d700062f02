"""LaTeX to vector SVG for the PDF (mathra), behind one small function."""

from __future__ import annotations

import base64
import re
from dataclasses import dataclass
from functools import lru_cache

import mathra

_SIZE = re.compile(r'width="([\d.]+)em" height="([\d.]+)em" style="vertical-align: (-?[\d.]+)em"')


class MathError(ValueError):
    """LaTeX that cannot be typeset."""


@dataclass(frozen=True)
class MathImage:
    """A typeset formula: SVG bytes and how to size it in the text (em units)."""

    svg: str
    width: float
    height: float
    baseline: float

    def data_uri(self) -> str:
        """Return the SVG as a data: URI for an <img> (lays out faster than inline <svg>)."""
        return "data:image/svg+xml;base64," + base64.b64encode(self.svg.encode()).decode()


@lru_cache(maxsize=4096)
def typeset(latex: str, display: bool) -> MathImage:
    """Typeset LaTeX strictly: invalid input raises MathError instead of being guessed at."""
    try:
        svg = mathra.tex_to_svg(latex, display=display, strict=True)
    except ValueError as err:
        raise MathError(str(err)) from None
    size = _SIZE.search(svg)
    if size is None:  # mathra changed its output format: a deckgen bug, not a card mistake
        raise RuntimeError(f"unexpected SVG header from mathra {mathra.core_version}")
    width, height, baseline = (float(v) for v in size.groups())
    return MathImage(svg, width, height, baseline)
