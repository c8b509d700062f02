"""Give every card a permanent id, written into its heading so authors never invent one."""

from __future__ import annotations

import os
import re
import stat
import unicodedata
from pathlib import Path

from deckgen.commit import temp_path
from deckgen.errors import Problem, SourceErrors, SourceLoc, quote
from deckgen.parse import ATTRS, CardFile
from deckgen.sources import read_text

_MAX_SLUG = 40


def missing(files: list[CardFile]) -> list[Problem]:
    """Report every card that has no id yet."""
    return [
        Problem(card.loc, f"card '{quote(card.title)}' has no id: run 'deckgen ids' to write one")
        for file in files
        for card in file.cards
        if card.id is None
    ]


def write_missing(files: list[CardFile]) -> int:
    """Write an id into every heading that lacks one; return how many were written."""
    taken = {card.id for file in files for card in file.cards if card.id}
    written = 0
    for file in files:
        new = {
            card.loc.line: claim(slugify(card.title), taken) for card in file.cards if not card.id
        }
        if new:
            _rewrite(file.path, new)
            written += len(new)
    return written


def slugify(title: str) -> str:
    """Make a readable id from a card title: 'Bayes' theorem' -> 'bayes-theorem'."""
    text = unicodedata.normalize("NFKD", title).encode("ascii", "ignore").decode()
    text = re.sub(r"\\([A-Za-z]+)", r" \1 ", text)  # LaTeX commands keep their names: \chi -> chi
    words = re.findall(r"[a-z0-9]+", text.replace("'", "").lower())
    slug = ""
    for word in words:
        if len(slug) + len(word) + 1 > _MAX_SLUG and slug:
            break
        slug = f"{slug}-{word}" if slug else word
    return slug[:_MAX_SLUG] or "card"


def claim(slug: str, taken: set[str]) -> str:
    """Return `slug`, or `slug-2`, `slug-3`... whichever is free, and take it."""
    candidate, n = slug, 1
    while candidate in taken:
        n += 1
        candidate = f"{slug}-{n}"
    taken.add(candidate)
    return candidate


def _rewrite(path: Path, new_ids: dict[int, str]) -> None:
    """Add `#id` to the given heading lines, changing nothing else in the file (line ends too)."""
    lines = read_text(path, keep_line_ends=True).split("\n")
    path = path.resolve()  # a card file that is a link: write where it leads (inside the cards)
    for line_no, card_id in new_ids.items():
        line = lines[line_no - 1]
        end = "\r" if line.endswith("\r") else ""
        lines[line_no - 1] = with_id(line.removesuffix("\r"), card_id) + end
    tmp = temp_path(path)
    try:
        tmp.write_bytes("\n".join(lines).encode("utf-8"))
        os.chmod(tmp, stat.S_IMODE(path.stat().st_mode))  # a private card file stays private
        os.replace(tmp, path)
    except OSError as err:
        tmp.unlink(missing_ok=True)
        problem = Problem(
            SourceLoc(path, min(new_ids)), f"cannot write the card's id: {err.strerror}"
        )
        raise SourceErrors([problem]) from None


def with_id(heading: str, card_id: str) -> str:
    """Return a heading line with `#card_id` in its attribute block (made if absent)."""
    text = re.sub(r"[ \t]+#+[ \t]*$", "", heading.rstrip())  # an ATX closing sequence
    block = ATTRS.search(text)
    if block:
        start = block.start(1)
        return f"{text[:start]}#{card_id} {text[start:].lstrip()}"
    return f"{text} {{#{card_id}}}"
