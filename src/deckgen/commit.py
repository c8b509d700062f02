"""Write a build's outputs and the lock as one unit, and keep two builds from running at once.

Each file is first written in full under a temporary name next to its target. Then a journal
naming the targets is written (atomically) into the output folder, the temporary files are renamed
into place and the journal is removed. A build killed before the journal exists leaves the old
files; one killed after it leaves a journal that the next build carries out first. Either way the
package, the PDF and the lock always come from the same build.
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import stat
from collections.abc import Iterator
from pathlib import Path

from deckgen.errors import DeckgenError, Problem, SourceErrors, SourceLoc

log = logging.getLogger(__name__)

JOURNAL = ".deckgen-commit"
_TEMP = ".{}.deckgen-tmp"
_OUTPUT_SUFFIXES = (".apkg", ".pdf")


def temp_path(path: Path) -> Path:
    """Where a file is written before it is renamed into place."""
    return path.with_name(_TEMP.format(path.name))


def commit(files: dict[Path, bytes], out_dir: Path) -> list[Path]:
    """Write every file that changed, then rename them all into place as one unit; return them.

    A file whose bytes are already there is not written again: its time stays, so tools that
    watch the outputs (sync, make, a preview) see that nothing changed.
    """
    files = {path: data for path, data in files.items() if not _holds(path, data)}
    if not files:
        return []
    try:
        for path, data in files.items():
            _write_synced(temp_path(path), data, like=path)
        targets = [str(path.resolve()) for path in files]
        _write_synced(temp_path(out_dir / JOURNAL), json.dumps(targets).encode())
        os.replace(temp_path(out_dir / JOURNAL), out_dir / JOURNAL)
    except OSError as err:
        for path in [*files, out_dir / JOURNAL]:
            temp_path(path).unlink(missing_ok=True)
        where = SourceLoc(Path(err.filename or out_dir), 0)
        raise SourceErrors([Problem(where, f"cannot write: {err.strerror}")]) from None
    finish(out_dir)
    return list(files)


def _holds(path: Path, data: bytes) -> bool:
    """Whether the file at `path` already holds exactly `data`."""
    try:
        return path.stat().st_size == len(data) and path.read_bytes() == data
    except OSError:
        return False


def finish(out_dir: Path) -> None:
    """Carry out a journal left by a build that was stopped, and remove stale temporary files."""
    journal = out_dir / JOURNAL
    try:
        targets = json.loads(journal.read_text(encoding="utf-8"))
    except (OSError, ValueError, RecursionError):
        targets = []
    for target in (Path(t) for t in targets if isinstance(t, str) and "\0" not in t):
        # Only deckgen's own files: a journal is in the build folder, which others may touch.
        output = target.suffix in _OUTPUT_SUFFIXES and target.parent == out_dir.resolve()
        if output or target.name == "deckgen.lock":
            with contextlib.suppress(FileNotFoundError):
                os.replace(temp_path(target), target)
    journal.unlink(missing_ok=True)
    temp_path(journal).unlink(missing_ok=True)


def clean_stale(folders: list[Path]) -> None:
    """Remove temporary files a killed build left in these folders and below (no links followed)."""
    suffix = _TEMP.format("")[1:]
    for top in folders:
        for folder, _, names in os.walk(top):
            for name in names:
                if name.startswith(".") and name.endswith(suffix) and name != suffix:
                    log.info("removing %s, left by a build that was stopped", name)
                    (Path(folder) / name).unlink(missing_ok=True)


def _write_synced(path: Path, data: bytes, like: Path | None = None) -> None:
    """Write a file to the disk; it gets the permissions of `like` if that exists."""
    with path.open("wb") as file:
        file.write(data)
        file.flush()
        os.fsync(file.fileno())
    with contextlib.suppress(FileNotFoundError):
        if like is not None:
            os.chmod(path, stat.S_IMODE(like.stat().st_mode))


@contextlib.contextmanager
def exclusive(folders: list[Path]) -> Iterator[None]:
    """Hold a lock on these folders for the build: a second build waits for nothing, it stops."""
    try:
        import fcntl
    except ImportError:  # not on a POSIX system: no locking
        yield
        return
    held: list[int] = []
    unique = {folder.resolve(): folder for folder in folders}  # --out may be the cards folder
    try:
        for folder in unique.values():
            descriptor = os.open(folder, os.O_RDONLY)
            held.append(descriptor)
            try:
                fcntl.flock(descriptor, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                raise DeckgenError(
                    f"another deckgen is building from or into {folder}: wait for it to finish"
                ) from None
        yield
    finally:
        for descriptor in held:
            os.close(descriptor)
