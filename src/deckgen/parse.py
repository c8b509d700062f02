"""Read card files: front matter, then one card per `##` heading."""

from __future__ import annotations

import os
import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml
from markdown_it.token import Token

from deckgen.config import yaml_problem
from deckgen.errors import Problem, SourceErrors, SourceLoc, quote
from deckgen.markup import CLOZE_OPEN, markdown_parser
from deckgen.sources import load_yaml, read_text

CARD_TYPES = ("basic", "reversed", "cloze")
ID_PATTERN = re.compile(r"[A-Za-z0-9][A-Za-z0-9_-]{0,79}")
ATTRS = re.compile(r"\s*\{((?:\s*(?:#[^\s{}]*|[A-Za-z_]+=[^\s{}]*))+)\s*\}\s*$")
_ANSWER = re.compile(r"^A:[ \t]?")
_NOTES = re.compile(r"^Notes:[ \t]?")
_BROKEN_ATTRS = re.compile(r"\{[^{}]*(?:#|type\s*=)[^{}]*\}\s*$")
_FRONT_MATTER_KEYS = {"deck", "tags"}


@dataclass(frozen=True)
class Segment:
    """A stretch of Markdown from a card file, and where it starts."""

    text: str
    loc: SourceLoc


@dataclass(frozen=True)
class Card:
    """One card as written: its identity, kind, deck and Markdown sides."""

    id: str | None
    title: str
    kind: str
    front: Segment
    back: Segment
    notes: Segment  # optional elaboration shown under the answer; empty if none
    deck: str
    tags: tuple[str, ...]
    loc: SourceLoc
    cheatsheet: bool = True  # `cheatsheet=no`: in Anki and the handout, not the cheatsheet


@dataclass(frozen=True)
class CardFile:
    """A parsed card file and the problems found in it."""

    path: Path
    cards: tuple[Card, ...]
    problems: tuple[Problem, ...]


def card_paths(cards_dir: Path) -> tuple[list[Path], list[Problem]]:
    """Return every Markdown file under the cards folder in sorted order, and what is unreadable.

    A folder that cannot be read is an error, never a smaller deck; a link may not lead out of
    the cards folder (links to folders inside it are skipped: their files are read where they are).
    """
    root = cards_dir.resolve()
    paths: list[Path] = []
    problems: list[Problem] = []

    def unreadable(err: OSError) -> None:
        message = f"cannot read this folder: {err.strerror}"
        problems.append(Problem(SourceLoc(Path(err.filename or cards_dir), 0), message))

    for folder, folders, names in os.walk(cards_dir, onerror=unreadable):
        for name in sorted(folders) + sorted(n for n in names if n.endswith(".md")):
            path = Path(folder) / name
            wrong = _link_problem(path, root) if path.is_symlink() else None
            if wrong:
                problems.append(Problem(SourceLoc(path, 0), wrong))
            elif name in names:
                paths.append(path)  # reading reports a broken link, a pipe, a device
    return sorted(paths), problems


def _link_problem(link: Path, root: Path) -> str | None:
    """What is wrong with where a link leads (a broken link is reported when it is read)."""
    try:
        target = link.resolve(strict=True)
    except FileNotFoundError:
        return None
    except (OSError, RuntimeError):  # RuntimeError: a loop, before Python 3.13
        return "is a loop of links"
    return None if target.is_relative_to(root) else "links to outside the cards folder"


def read_all(cards_dir: Path) -> list[CardFile]:
    """Parse every card file under the cards folder; unreadable folders come as problems."""
    paths, problems = card_paths(cards_dir)
    unread = [CardFile(p.loc.path, (), (p,)) for p in problems]
    return unread + [read_file(path) for path in paths]


def read_file(path: Path) -> CardFile:
    """Parse one card file."""
    try:
        text = read_text(path)
    except SourceErrors as err:
        return CardFile(path, (), tuple(err.problems))
    problems: list[Problem] = []
    meta, body_line = _front_matter(path, text, problems)
    lines = text.split("\n")[body_line - 1 :]
    cards = list(_cards(path, lines, body_line, meta, problems)) if meta else []
    return CardFile(path, tuple(cards), tuple(problems))


@dataclass(frozen=True)
class _Meta:
    deck: str
    tags: tuple[str, ...]


def _front_matter(path: Path, text: str, problems: list[Problem]) -> tuple[_Meta | None, int]:
    """Return the front matter and the line where the body starts."""
    lines = text.split("\n")
    top = SourceLoc(path, 1)
    if not lines or lines[0].strip() != "---":
        problems.append(
            Problem(top, "missing front matter: start the file with '---', 'deck: ...'")
        )
        return None, 1
    end = next((i for i, line in enumerate(lines[1:], 1) if line.strip() == "---"), None)
    if end is None:
        problems.append(Problem(top, "front matter is not closed by a '---' line"))
        return None, 1
    try:
        raw = load_yaml("\n".join(lines[1:end]))
    except yaml.YAMLError as err:
        problems.append(yaml_problem(path, err, first_line=2))
        return None, end + 2
    return _validate_meta(raw, top, problems), end + 2


def _validate_meta(raw: Any, top: SourceLoc, problems: list[Problem]) -> _Meta | None:
    if not isinstance(raw, dict):
        problems.append(Problem(top, "front matter must be 'key: value' lines with 'deck'"))
        return None
    found = [
        Problem(top, f"unknown front matter key '{quote(str(k))}'")
        for k in raw
        if k not in _FRONT_MATTER_KEYS
    ]
    deck = raw.get("deck")
    if isinstance(deck, bool):
        found.append(Problem(top, "'deck' is read as true or false: put the name in quotes"))
    elif not isinstance(deck, str) or any(not part.strip() for part in deck.split("::")):
        found.append(Problem(top, "'deck' must be a deck name like 'Statistics::Distributions'"))
    tags = raw.get("tags", [])
    if isinstance(tags, str):
        tags = [tags]
    if not isinstance(tags, list) or not all(isinstance(t, str) and t for t in tags):
        found.append(Problem(top, "'tags' must be a list of words"))
    elif bad := [t for t in tags if re.search(r"\s", t)]:
        found.append(
            Problem(top, f"tag '{quote(bad[0])}' contains a space; Anki tags are single words")
        )
    problems.extend(found)
    if found:
        return None
    return _Meta("::".join(p.strip() for p in str(deck).split("::")), tuple(tags))


@dataclass(frozen=True)
class _Heading:
    level: int
    text: str
    first: int  # 0-based line index in the body
    after: int  # first body line after the heading


def _headings(tokens: list[Token]) -> Iterator[_Heading]:
    for i, tok in enumerate(tokens):
        if tok.type == "heading_open" and tok.level == 0 and tok.tag in ("h1", "h2") and tok.map:
            yield _Heading(int(tok.tag[1]), tokens[i + 1].content, tok.map[0], tok.map[1])


def _cards(
    path: Path, lines: list[str], body_line: int, meta: _Meta, problems: list[Problem]
) -> Iterator[Card]:
    tokens = markdown_parser().parse("\n".join(lines))
    headings = list(_headings(tokens))
    # A `#` title belongs to no card: it ends the card before it.
    starts = sorted({h.first for h in headings} | {len(lines)})
    covered = {i for h in headings if h.level == 1 for i in range(h.first, h.after)}
    for heading in (h for h in headings if h.level == 2):
        end = next(start for start in starts if start > heading.first)
        covered.update(range(heading.first, end))
        card = _card(path, lines, body_line, heading, end, tokens, meta, problems)
        if card is not None:
            yield card
    stray = next((i for i, line in enumerate(lines) if line.strip() and i not in covered), None)
    if stray is not None:
        message = "text outside any card: each card starts with a '## ' heading"
        problems.append(Problem(SourceLoc(path, body_line + stray), message))


def _card(
    path: Path,
    lines: list[str],
    body_line: int,
    heading: _Heading,
    end: int,
    tokens: list[Token],
    meta: _Meta,
    problems: list[Problem],
) -> Card | None:
    loc = SourceLoc(path, body_line + heading.first)
    title, attrs = _split_attrs(heading.text)
    card_id, kind, printed, bad = _attributes(attrs)
    if not attrs and _BROKEN_ATTRS.search(title):
        bad.append("cannot read the attribute block: write it like {#card-id type=cloze}")
    problems.extend(Problem(loc, msg) for msg in bad)
    if not title:
        problems.append(Problem(loc, "card heading has no title"))
    answer = _marked_line(tokens, _ANSWER, heading.after, end)
    notes_at = _marked_line(tokens, _NOTES, heading.after, end)
    found = _check_order(answer, notes_at, body_line, path)
    after_answer = notes_at if notes_at is not None else end
    front_end = min(answer if answer is not None else end, after_answer)
    front = _segment(path, lines, body_line, heading.after, front_end)
    back = _after_mark(_ANSWER, path, lines, body_line, answer, after_answer)
    notes = _after_mark(_NOTES, path, lines, body_line, notes_at, end)
    found += _check_sides(kind, title, front, back, answer is not None, loc)
    if notes_at is not None and not notes.text.strip():
        found.append(Problem(notes.loc, f"card '{quote(title)}' has empty notes after 'Notes:'"))
    problems.extend(found)
    if bad or found or not title:
        return None
    return Card(card_id, title, kind, front, back, notes, meta.deck, meta.tags, loc, printed)


def _split_attrs(text: str) -> tuple[str, str]:
    match = ATTRS.search(text)
    if match is None:
        return text.strip(), ""
    return text[: match.start()].strip(), match.group(1)


def _attributes(attrs: str) -> tuple[str | None, str, bool, list[str]]:
    """Return the id, card type, whether the cheatsheet prints the card, and what is wrong with
    an attribute block."""
    card_id, kind, printed, bad = None, "basic", True, []
    items = attrs.split()
    for twice in ("#", "type=", "cheatsheet="):
        if sum(item.startswith(twice) for item in items) > 1:
            bad.append(f"the attribute block gives '{twice}' twice: give each once")
    for item in items:
        if item.startswith("#"):
            card_id = item[1:]
            if not ID_PATTERN.fullmatch(card_id):
                rule = "use letters, digits, '-' and '_' (at most 80)"
                bad.append(f"invalid card id '{quote(card_id)}': {rule}")
        elif item.startswith("type="):
            kind = item[len("type=") :]
            if kind not in CARD_TYPES:
                bad.append(f"unknown card type '{quote(kind)}' (expected {', '.join(CARD_TYPES)})")
        elif item.startswith("cheatsheet="):
            value = item[len("cheatsheet=") :]
            if value not in ("yes", "no"):
                bad.append(f"cheatsheet={quote(value)}: write cheatsheet=no (or yes, the default)")
            printed = value != "no"
        else:
            expected = "#id, type=... or cheatsheet=no"
            bad.append(f"unknown card attribute '{quote(item)}' (expected {expected})")
    return card_id, kind, printed, bad


def _marked_line(tokens: list[Token], mark: re.Pattern[str], start: int, end: int) -> int | None:
    """Return the body line of the card's first top-level paragraph starting with the mark
    (`A:` for the answer, `Notes:` for the notes), if any."""
    for i, tok in enumerate(tokens):
        if tok.type != "paragraph_open" or tok.level != 0 or not tok.map:
            continue
        if start <= tok.map[0] < end and mark.match(tokens[i + 1].content):
            return tok.map[0]
    return None


def _check_order(
    answer: int | None, notes: int | None, body_line: int, path: Path
) -> list[Problem]:
    if answer is not None and notes is not None and notes < answer:
        loc = SourceLoc(path, body_line + notes)
        return [Problem(loc, "'Notes:' comes before the answer: put the notes after 'A: ...'")]
    return []


def _segment(path: Path, lines: list[str], body_line: int, start: int, end: int) -> Segment:
    return _trimmed(lines[start:end], SourceLoc(path, body_line + start))


def _after_mark(
    mark: re.Pattern[str], path: Path, lines: list[str], body_line: int, start: int | None, end: int
) -> Segment:
    """Return the Markdown from a marked paragraph (mark removed) up to `end`; empty if unmarked."""
    if start is None:
        return Segment("", SourceLoc(path, body_line + end))
    first = mark.sub("", lines[start].lstrip(), count=1)
    return _trimmed([first, *lines[start + 1 : end]], SourceLoc(path, body_line + start))


def _trimmed(lines: list[str], loc: SourceLoc) -> Segment:
    """Drop blank lines around a stretch of Markdown, keeping its location true."""
    filled = [i for i, line in enumerate(lines) if line.strip()]
    if not filled:
        return Segment("", loc)
    return Segment("\n".join(lines[filled[0] : filled[-1] + 1]), loc.at(filled[0]))


def _check_sides(
    kind: str, title: str, front: Segment, back: Segment, has_answer: bool, loc: SourceLoc
) -> list[Problem]:
    if kind == "cloze":
        if not CLOZE_OPEN.search(front.text):
            return [Problem(loc, "cloze card has no deletion: mark one like {{c1::text}}")]
        return []
    if not has_answer:
        return [
            Problem(
                loc, f"card '{quote(title)}' has no back: start its answer with a line 'A: ...'"
            )
        ]
    if not back.text.strip():
        return [Problem(back.loc, f"card '{quote(title)}' has an empty answer after 'A:'")]
    return []
