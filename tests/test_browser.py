"""Every side of every card of the shipped deck, shown as Anki shows it, in headless Chromium.

Run alone with `.venv/bin/python -m pytest -m browser`. Screenshots of chosen cards:
`.venv/bin/python benchmarks/screenshots.py --help`.
"""

from __future__ import annotations

import asyncio
import re

import pytest
from reviewer import (
    INSTALL_HELP,
    VIEWS,
    Side,
    anki_sides,
    build_shipped_deck,
    missing_tools,
    review,
)

pytestmark = pytest.mark.browser

KNOWN_BAD = "known-bad/"  # sides made here to show that each check can fail


def known_bad_sides(sides: list[Side]) -> list[Side]:
    """Return sides with the deck's CSS, each breaking one check in every view."""
    style = re.match(r"<style>.*?</style>", sides[0].html, re.DOTALL)
    assert style, "Anki gave a side without the note type's <style>"
    plot = next((s for s in sides if 'class="plot-day"' in s.html), None)
    assert plot, "the shipped deck has no plot: the day/night check would test nothing"
    wide = " + ".join(f"x_{{{i}}}" for i in range(60))
    bad = {
        "mathjax-error": r"\(\frac{1}\)",
        "raw-tex": r"\(\frac{1}{2\)",
        "undefined-macro": r"\(\notamacro x\)",
        "wide-display": f'<div class="math-display">\\[{wide}\\]</div>',
        "wide-inline": f"<p>\\({wide}\\)</p>",
        "notes-on-front": '<div class="question"><p>Q</p><div class="notes">N</div></div>',
        "both-plots": plot.html.removeprefix(style[0])
        + "<style>.plot img { display: inline !important; }</style>",
    }
    return [Side(KNOWN_BAD + name, "front", 0, style[0] + html) for name, html in bad.items()]


@pytest.fixture(scope="module")
def problems(tmp_path_factory: pytest.TempPathFactory) -> list[str]:
    """Build the shipped deck, import it into Anki, show every side in Chromium: the problems."""
    missing = missing_tools()
    if missing:
        pytest.fail("missing: " + "; ".join(missing) + "\n" + INSTALL_HELP, pytrace=False)
    root = tmp_path_factory.mktemp("shipped")
    sides, media = anki_sides(build_shipped_deck(root), root / "anki", root / "cards")
    assert len(sides) >= 2 * 40, f"only {len(sides)} sides came out of Anki"
    return asyncio.run(review(sides + known_bad_sides(sides), media))


def test_each_check_reports_a_side_made_to_fail_it_in_every_view(problems: list[str]) -> None:
    expected = {
        "mathjax-error": "MathJax error in formula",
        "raw-tex": "math shown as raw TeX",
        "undefined-macro": r"MathJax: undefined macro \notamacro",
        "wide-display": "px past the card's",  # hidden in its scroller or sticking out
        "wide-inline": "the page scrolls sideways",
        "both-plots": "is shown in",
        "notes-on-front": "notes shown before the answer",
    }
    made = [p for p in problems if p.startswith(KNOWN_BAD)]
    for name, message in expected.items():
        views = [
            view
            for view in VIEWS
            if any(
                p.startswith(f"{KNOWN_BAD}{name} front, {view}: ") and message in p for p in made
            )
        ]
        assert views == list(VIEWS), f"{name}: '{message}' reported only in {views}: {made}"


def test_every_card_shows_whole_and_right_at_phone_and_desktop_width(problems: list[str]) -> None:
    """No MathJax error, nothing wider than the card, no sideways scroll, the mode's plot."""
    shipped = [p for p in problems if not p.startswith(KNOWN_BAD)]
    if shipped:
        listing = "\n".join(shipped)
        message = f"{len(shipped)} problems in the shipped deck, as Anki shows it:\n{listing}"
        pytest.fail(message, pytrace=False)
