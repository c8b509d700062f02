"""The lock file: per note (and note type) a content hash and the time that content first appeared.

Anki updates an existing note only when the imported one is newer. So a note's modification time
must rise exactly when its content changes, and stay put otherwise: this file remembers both.
"""

from __future__ import annotations

import hashlib
import json
import os
import time
from dataclasses import dataclass, field
from pathlib import Path

from deckgen.errors import Problem, SourceErrors, SourceLoc

LOCK_NAME = "deckgen.lock"
_VERSION = 1


@dataclass(frozen=True)
class Stamp:
    """A content hash and the modification time given to that content."""

    hash: str
    mod: int


@dataclass
class Lock:
    """Stamps by key ('note:<id>', 'model:<name>'), and the clock to stamp new content with."""

    stamps: dict[str, Stamp] = field(default_factory=dict)
    now: int = field(default_factory=lambda: build_time())
    used: set[str] = field(default_factory=set)

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

    def kept_used(self) -> Lock:
        """Return the lock with only what this build used (deleted cards drop out)."""
        return Lock({k: v for k, v in self.stamps.items() if k in self.used}, self.now)


def build_time() -> int:
    """Return the time to stamp changed content with; SOURCE_DATE_EPOCH wins when set."""
    epoch = os.environ.get("SOURCE_DATE_EPOCH", "")
    return int(epoch) if epoch.isdigit() else int(time.time())


def load(cards_dir: Path) -> Lock:
    """Read the lock file next to the cards; a missing file is an empty lock."""
    path = cards_dir / LOCK_NAME
    if not path.exists():
        return Lock()
    try:
        raw = json.loads(path.read_text(encoding="utf-8"))
        stamps = {k: Stamp(str(v["hash"]), int(v["mod"])) for k, v in raw["stamps"].items()}
    except json.JSONDecodeError as err:
        raise SourceErrors(
            [Problem(SourceLoc(path, err.lineno), f"broken lock file: {err.msg}")]
        ) from None
    except (KeyError, TypeError, ValueError, AttributeError):
        message = (
            "broken lock file: delete it to start afresh (Anki will then update every note once)"
        )
        raise SourceErrors([Problem(SourceLoc(path, 1), message)]) from None
    return Lock(stamps)


def dumps(lock: Lock) -> str:
    """Serialise the lock deterministically (sorted, one stamp per line, diff-friendly)."""
    stamps = {k: {"hash": s.hash, "mod": s.mod} for k, s in sorted(lock.stamps.items())}
    return json.dumps({"version": _VERSION, "stamps": stamps}, indent=1) + "\n"
