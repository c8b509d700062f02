"""The lock file: per note (and note type) a content hash and the time that content first appeared.

Anki updates an existing note only when the imported one is newer. So a note's modification time
must rise exactly when its content changes, and stay put otherwise: this file remembers both.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from deckgen.errors import DeckgenError, Problem, SourceErrors, SourceLoc, quote
from deckgen.sources import read_text

LOCK_NAME = "deckgen.lock"
_VERSION = 1
MAX_LOCK = 16 * 1024 * 1024  # bytes: about 100,000 stamps
_HASH = re.compile(r"[0-9a-f]{64}")


@dataclass(frozen=True)
class Stamp:
    """A content hash and the modification time given to that content."""

    hash: str
    mod: int


@dataclass(frozen=True)
class Built:
    """One note as the last build put it into the package: what Anki's copy looks like."""

    deck: str  # below the top-level deck
    kind: str
    clozes: tuple[int, ...] = ()


@dataclass
class Lock:
    """Stamps by key ('note:<id>', 'model:<name>'), and the clock to stamp new content with.

    Stamps of cards absent from a build are kept: a card deleted and later restored (a revert, a
    branch switch) must come back with its old time, or the next import overwrites the user's
    edits. `deckgen prune` drops them on request.
    """

    stamps: dict[str, Stamp] = field(default_factory=dict)
    now: int = field(default_factory=lambda: build_time())
    used: set[str] = field(default_factory=set)
    title: str | None = None  # the deck title of the last build: Anki keeps cards in old decks
    built: dict[str, Built] | None = None  # the last build's notes by card id (None: unknown)

    def mod(self, key: str, content: str) -> int:
        """Return the modification time for this content, stamping it if it is new or changed."""
        digest = hashlib.sha256(content.encode()).hexdigest()
        old = self.stamps.get(key)
        if old is None or old.hash != digest:
            self.stamps[key] = Stamp(digest, max(self.now, old.mod + 1 if old else 0))
        self.used.add(key)
        return self.stamps[key].mod

    def newest_used(self) -> int:
        """Return the latest mod time among the stamps this build used."""
        return max((self.stamps[key].mod for key in self.used), default=0)

    def without_notes_except(self, card_ids: set[str]) -> Lock:
        """Return the lock keeping note stamps only for these card ids (note types stay)."""
        kept = {
            key: stamp
            for key, stamp in self.stamps.items()
            if not key.startswith("note:") or key[len("note:") :] in card_ids
        }
        return Lock(kept, self.now, title=self.title, built=self.built)


# A clock more than a day ahead is a mistake (milliseconds, a typo, a hand edit); taking it would
# make every later import overwrite the user's edits until that day, so it is refused.
_SLACK = 24 * 3600


def build_time() -> int:
    """Return the time to stamp changed content with; SOURCE_DATE_EPOCH wins when set."""
    epoch = os.environ.get("SOURCE_DATE_EPOCH")
    if epoch is None:
        return int(time.time())
    if not re.fullmatch(r"[0-9]{1,12}", epoch) or int(epoch) > time.time() + _SLACK:
        raise DeckgenError(
            f"SOURCE_DATE_EPOCH={epoch[:20]!r} is not a time in seconds since 1970 up to now"
        )
    return int(epoch)


def load(cards_dir: Path) -> Lock:
    """Read the lock file next to the cards; a missing file is an empty lock."""
    path = cards_dir / LOCK_NAME
    if not path.exists() and not path.is_symlink():
        return Lock()
    text = read_text(path, MAX_LOCK, root=cards_dir)
    try:
        raw = json.loads(text)
    except json.JSONDecodeError as err:
        raise SourceErrors(
            [Problem(SourceLoc(path, err.lineno), f"broken lock file: {err.msg}")]
        ) from None
    except (RecursionError, ValueError):  # ValueError: a number of over 4,300 digits
        message = "broken lock file: nested too deeply or a number too long"
        raise SourceErrors([Problem(SourceLoc(path, 1), message)]) from None
    stamps, title = _read(raw, path)
    return Lock(stamps, title=title, built=_read_built(raw.get("built"), path))


def _read(raw: Any, path: Path) -> tuple[dict[str, Stamp], str | None]:
    """Validate the lock's content: every stamp a sha256 and a time between 1970 and now."""
    latest = time.time() + _SLACK
    top = SourceLoc(path, 1)
    fresh = "delete it to start afresh (Anki will then update every note once)"
    if not isinstance(raw, dict) or not isinstance(raw.get("stamps"), dict):
        raise SourceErrors([Problem(top, f"broken lock file: {fresh}")])
    stamps: dict[str, Stamp] = {}
    for key, value in raw["stamps"].items():
        digest = value.get("hash") if isinstance(value, dict) else None
        mod = value.get("mod") if isinstance(value, dict) else None
        if not (isinstance(digest, str) and _HASH.fullmatch(digest) and type(mod) is int):
            raise SourceErrors([Problem(top, f"broken lock file: stamp {quote(key)!r}; {fresh}")])
        if mod < 0:
            raise SourceErrors([Problem(top, f"lock file stamp {quote(key)!r} is negative")])
        if mod > latest:
            message = f"lock file stamp {quote(key)!r} is in the future ({mod}); {fresh}"
            raise SourceErrors([Problem(top, message)])
        stamps[key] = Stamp(digest, mod)
    title = raw.get("title")
    return stamps, title if isinstance(title, str) else None


_KINDS = ("basic", "reversed", "cloze")


def _read_built(raw: Any, path: Path) -> dict[str, Built] | None:
    """Validate the last build's record: per card id its deck, type and cloze numbers."""
    if raw is None:
        return None
    problem = Problem(SourceLoc(path, 1), "broken lock file: its 'built' record is not valid")
    if not isinstance(raw, dict):
        raise SourceErrors([problem])
    built = {}
    for card_id, entry in raw.items():
        deck = entry.get("deck") if isinstance(entry, dict) else None
        kind = entry.get("type") if isinstance(entry, dict) else None
        clozes = entry.get("clozes", []) if isinstance(entry, dict) else None
        if not (
            isinstance(deck, str)
            and len(deck) <= 1000
            and kind in _KINDS
            and isinstance(clozes, list)
            and len(clozes) <= 500
            and all(type(n) is int and 1 <= n <= 500 for n in clozes)
        ):
            raise SourceErrors([problem])
        built[card_id] = Built(deck, kind, tuple(clozes))
    return built


def dumps(lock: Lock) -> str:
    """Serialise the lock deterministically (sorted, one stamp per line, diff-friendly)."""
    stamps = {k: {"hash": s.hash, "mod": s.mod} for k, s in sorted(lock.stamps.items())}
    content: dict[str, Any] = {"version": _VERSION, "stamps": stamps}
    if lock.title is not None:
        content["title"] = lock.title
    if lock.built is not None:
        content["built"] = {
            card_id: {
                "deck": b.deck,
                "type": b.kind,
                **({"clozes": list(b.clozes)} if b.clozes else {}),
            }
            for card_id, b in sorted(lock.built.items())
        }
    return json.dumps(content, indent=1) + "\n"
