"""Write a synthetic deck for scale benchmarks: python benchmarks/synth.py N DIR [--ankdown]

N basic cards, 50 to a file, card i asking for the mean of a Poisson distribution with rate
lambda_i; each has an inline formula, a display formula with a verify block, and emphasis. DIR gets
`deck.yaml` and the card files in deckgen's format, or with --ankdown the same cards in ankdown's
format (front % back, cards separated by ---), for a comparison on equal content.
"""

from __future__ import annotations

import sys
from pathlib import Path

PER_FILE = 50

DECK_YAML = "id: synthetic\ntitle: Synthetic\nslug: synthetic\n"

FRONT = r"What is the mean of a Poisson distribution with rate $\lambda_{{{i}}}$ (card {i})?"
BACK = (
    r"The mean is $\lambda_{{{i}}}$ and so is the variance; the PMF is"
    "\n\n"
    r"$$P(X=k)=\frac{{\lambda_{{{i}}}^k e^{{-\lambda_{{{i}}}}}}}{{k!}}$$"
)
VERIFY = (
    "```verify\n"
    r"where \lambda_{{{i}}} > 0, k \in \mathbb{{Z}}_{{\ge 0}}"
    "\n"
    r"holds: P(X=k) > 0"
    "\n```"
)
USE = "Use it for counts of events in an interval, e.g. *calls per hour* number {i}."


def deckgen_file(first: int, count: int) -> str:
    cards = [
        f"## Poisson mean {i} {{#poisson-mean-{i}}}\n\n{FRONT.format(i=i)}\n\n"
        f"A: {BACK.format(i=i)}\n\n{VERIFY.format(i=i)}\n\n{USE.format(i=i)}\n"
        for i in range(first, first + count)
    ]
    return "---\ndeck: Synthetic\n---\n\n" + "\n".join(cards)


def ankdown_file(first: int, count: int) -> str:
    def tex(markdown: str) -> str:  # ankdown reads \( \) and \[ \], as Anki does
        return markdown.replace("$$", "\\[", 1).replace("$$", "\\]", 1)

    cards = [
        f"{FRONT.format(i=i)}\n\n%\n\n{tex(BACK.format(i=i))}\n\n{USE.format(i=i)}\n"
        for i in range(first, first + count)
    ]
    return "\n---\n\n".join(cards)


def write(n: int, folder: Path, ankdown: bool = False) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    if not ankdown:
        (folder / "deck.yaml").write_text(DECK_YAML)
    for number, first in enumerate(range(1, n + 1, PER_FILE)):
        count = min(PER_FILE, n + 1 - first)
        text = ankdown_file(first, count) if ankdown else deckgen_file(first, count)
        (folder / f"{number:05d}.md").write_text(text)


if __name__ == "__main__":
    if len(sys.argv) < 3 or not sys.argv[1].isdigit():
        sys.exit(__doc__)
    write(int(sys.argv[1]), Path(sys.argv[2]), ankdown="--ankdown" in sys.argv[3:])
