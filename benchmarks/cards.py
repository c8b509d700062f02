"""Print how long the shipped cards' answers are: python benchmarks/cards.py [--check] [--list]

The minimum-information principle (issue 10): an answer is the short thing to recall, at most about
40 words, anything more goes to the notes (at most about 60). Figures per section (the deck's first
level): median and 90th percentile of answer words, notes excluded, every formula or code block
counting as one word. A basic or reversed card's answer is its `A:` text; a cloze card's answer is
what each of its deletions hides (one figure per deletion number).

--check exits with status 1 unless every section has a median of at most 40 and a 90th percentile
of at most 70 (the targets of issue 10). --list prints every answer over 40 words and every note
over 60 words.
"""

from __future__ import annotations

import re
import statistics
import sys
from collections import defaultdict
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO / "src"))

from deckgen.parse import Card, read_all  # noqa: E402

MEDIAN_TARGET, P90_TARGET, ANSWER_WORDS, NOTES_WORDS = 40, 70, 40, 60

_FENCE = re.compile(r"^(`{3,}|~{3,})[^\n]*\n.*?^\1[ \t]*$", re.MULTILINE | re.DOTALL)
_MATH = re.compile(r"\$\$.+?\$\$|\$[^$\n]+?\$", re.DOTALL)
_DELETION = re.compile(r"\{\{c(\d+)::(.*?)(?:::[^{}]*)?\}\}", re.DOTALL)
_WORD = re.compile(r"[^\s|*_#>`\-]+")


def words(markdown: str) -> int:
    """Count words the way a reader recalls them: a formula or a code block is one word."""
    text = _FENCE.sub(lambda m: "" if _is_data(m.group()) else " CODE ", markdown)
    text = _MATH.sub(" F ", text)
    text = re.sub(r"!?\[([^\]]*)\]\([^)]*\)", r"\1", text)  # links and images: their text
    return len([w for w in _WORD.findall(text) if re.search(r"\w", w)])


def _is_data(fence: str) -> bool:
    """Plot and verify blocks are not read by the learner."""
    return bool(re.match(r"(`{3,}|~{3,})\s*(plot|verify)\b", fence))


def answers(card: Card) -> list[int]:
    """Words of each answer a card asks for (one per cloze deletion number)."""
    if card.kind != "cloze":
        return [words(card.back.text)]
    hidden: dict[str, list[str]] = defaultdict(list)
    for number, text in _DELETION.findall(card.front.text):
        hidden[number].append(text)
    return [words(" ".join(parts)) for parts in hidden.values()]


def percentile(values: list[int], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def main(argv: list[str]) -> int:
    cards = [card for file in read_all(REPO / "cards") for card in file.cards]
    by_section: dict[str, list[int]] = defaultdict(list)
    long: list[str] = []
    for card in cards:
        section = card.deck.split("::")[0]
        for count in answers(card):
            by_section[section].append(count)
            if count > ANSWER_WORDS:
                long.append(f"{card.loc}: answer of {count} words ({card.id})")
        notes = words(card.notes.text)
        if notes > NOTES_WORDS:
            long.append(f"{card.notes.loc}: notes of {notes} words ({card.id})")
    ok = True
    print(f"{len(cards)} notes; answer words (formulas and code count as one word)")
    print(f"{'section':<20} {'answers':>7} {'median':>7} {'p90':>5} {'max':>5} {'>40':>4}")
    for section, counts in by_section.items():
        median, p90 = statistics.median(counts), percentile(counts, 0.9)
        over = sum(count > ANSWER_WORDS for count in counts)
        print(
            f"{section:<20} {len(counts):>7} {median:>7.1f} {p90:>5.0f} {max(counts):>5} {over:>4}"
        )
        ok = ok and median <= MEDIAN_TARGET and p90 <= P90_TARGET
    if "--list" in argv:
        print("\n".join(long) or "no answer over 40 words, no notes over 60")
    if "--check" in argv and not ok:
        print(f"FAIL: a section's median is over {MEDIAN_TARGET} or its p90 over {P90_TARGET}")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
