"""`deckgen watch`: rebuild whenever a card file, an image or deck.yaml changes.

The folder is watched with watchdog (the OS's file events). Events only wake the loop; what
decides a rebuild is a snapshot of the sources' contents, so the build's own writes (ids written
into headings, the lock) and editors' temporary files that change nothing start no second build.
A build that fails leaves the last good outputs in place (as every build does) and the watch goes
on.
"""

from __future__ import annotations

import hashlib
import os
import threading
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from deckgen.state import LOCK_NAME

Snapshot = dict[str, str]  # path relative to the cards folder -> content hash

DEBOUNCE = 0.3  # seconds of quiet after an event before the sources are read


@dataclass(frozen=True)
class Changes:
    """Which source files differ between two snapshots."""

    changed: list[str]
    added: list[str]
    removed: list[str]

    def __str__(self) -> str:
        parts = [
            f"{what}: {', '.join(names)}"
            for what, names in (
                ("changed", self.changed),
                ("added", self.added),
                ("removed", self.removed),
            )
            if names
        ]
        return "; ".join(parts)


def snapshot(cards_dir: Path) -> Snapshot:
    """Hash every source file under the cards folder (not the lock, not temporary files)."""
    found: Snapshot = {}
    for folder, dirs, names in os.walk(cards_dir):
        dirs[:] = sorted(d for d in dirs if not d.startswith("."))
        for name in sorted(names):
            if name == LOCK_NAME or name.startswith(".") or name.endswith("~"):
                continue
            path = Path(folder) / name
            try:
                digest = hashlib.sha256(path.read_bytes()).hexdigest()
            except OSError:
                continue  # gone or unreadable: the build will say so if it matters
            found[path.relative_to(cards_dir).as_posix()] = digest
    return found


def compare(before: Snapshot, after: Snapshot, root: Path) -> Changes:
    """The files that differ, named as the user names them (under the cards folder's path)."""

    def named(paths: list[str]) -> list[str]:
        return [str(root / path) for path in sorted(paths)]

    return Changes(
        changed=named([p for p in after if p in before and before[p] != after[p]]),
        added=named([p for p in after if p not in before]),
        removed=named([p for p in before if p not in after]),
    )


def watch(
    cards_dir: Path,
    rebuild: Callable[[Changes | None], None],
    stop: threading.Event,
) -> None:
    """Call `rebuild(None)` once, then `rebuild(changes)` after every change, until `stop`."""
    from watchdog.events import FileSystemEvent, FileSystemEventHandler
    from watchdog.observers import Observer

    woken = threading.Event()

    class Wake(FileSystemEventHandler):
        def on_any_event(self, event: FileSystemEvent) -> None:
            woken.set()

    last = snapshot(cards_dir)  # what the build reads: an edit made while it runs is seen after
    rebuild(None)
    observer = Observer()
    observer.schedule(Wake(), str(cards_dir), recursive=True)
    observer.start()
    try:
        while not stop.is_set():
            if not woken.wait(0.2):
                continue
            while woken.is_set() and not stop.is_set():  # wait for the burst of events to end
                woken.clear()
                stop.wait(DEBOUNCE)
            now = snapshot(cards_dir)
            changes = compare(last, now, cards_dir)
            if changes.changed or changes.added or changes.removed:
                last = now
                rebuild(changes)
    finally:
        observer.stop()
        observer.join()
