"""A content-addressed store under the build folder's cache: what a stage made, by a key that
hashes everything the result depends on. What is read back is checked against the hash stored
with it: a truncated, damaged or edited entry is ignored (and made again), never used."""

from __future__ import annotations

import hashlib
import logging
import os
import shutil
from pathlib import Path

from deckgen.commit import temp_path

log = logging.getLogger(__name__)

_DIGEST = 64  # hex characters of a SHA-256 at the start of every entry


def key(*parts: str | bytes) -> str:
    """Return a key for the given inputs (their order matters, their boundaries too)."""
    digest = hashlib.sha256()
    for part in parts:
        data = part.encode() if isinstance(part, str) else part
        digest.update(len(data).to_bytes(8, "big"))
        digest.update(data)
    return digest.hexdigest()


def get(folder: Path, entry: str) -> bytes | None:
    """Return the bytes stored under `entry`, or None if absent or not what was stored."""
    try:
        raw = (folder / entry).read_bytes()
    except OSError:
        return None
    stored, data = raw[:_DIGEST], raw[_DIGEST:]
    if stored != hashlib.sha256(data).hexdigest().encode():
        log.debug("cache entry %s is damaged: making it again", folder / entry)
        return None
    return data


def put(folder: Path, entry: str, data: bytes) -> None:
    """Store `data` under `entry`; a cache that cannot be written only costs time next build."""
    path = folder / entry
    temp = temp_path(path)
    try:
        folder.mkdir(parents=True, exist_ok=True)
        temp.write_bytes(hashlib.sha256(data).hexdigest().encode() + data)
        os.replace(temp, path)
    except OSError as err:
        log.info("cannot keep %s in the cache: %s", path, err.strerror)
        temp.unlink(missing_ok=True)


def clear(cache_dir: Path) -> bool:
    """Remove the whole cache folder; return whether there was one."""
    if not cache_dir.exists():
        return False
    shutil.rmtree(cache_dir)
    return True
