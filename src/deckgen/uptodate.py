"""Know, without building, that a build would change nothing.

After every good build a record is kept in the cache: a fingerprint of everything the build read
(every file under the cards folder, the lock included; deckgen's code and templates; the versions
of the libraries that shape the outputs; the options) and the SHA-256 of every output it wrote.
When the next build's fingerprint is the same and the outputs on disk are still those files, the
build would make the same bytes: it is skipped, and the record's summary is shown. Nothing heavy
is imported on this path (no Markdown, SymPy, Matplotlib or WeasyPrint): it only reads files.
"""

from __future__ import annotations

import hashlib
import json
import os
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path
from typing import Any

from deckgen import __version__, cache
from deckgen.commit import JOURNAL, exclusive
from deckgen.state import build_time

# Libraries whose version can change an output.
_LIBRARIES = (
    "genanki",
    "markdown-it-py",
    "mdit-py-plugins",
    "pygments",
    "pyyaml",
    "jinja2",
    "mathra",
    "sympy",
    "mpmath",
    "matplotlib",
    "pillow",
    "weasyprint",
    "pydyf",
    "fonttools",
    "tinycss2",
)


def fingerprint(
    cards_dir: Path, out_dir: Path, outputs: tuple[str, ...], paper: str | None
) -> str | None:
    """Hash everything a build reads; None if some source cannot be read (a build will say why)."""
    parts: list[str | bytes] = [__version__, json.dumps([sorted(outputs), paper])]
    parts += [str(cards_dir.resolve()), str(out_dir.resolve())]
    parts += [f"{name}={_version(name)}" for name in _LIBRARIES]
    code = Path(__file__).parent
    try:
        for folder in (code, _templates_dir(), cards_dir):
            for path in _files(folder, skip=out_dir):
                parts += [str(path.relative_to(folder)), path.read_bytes()]
    except (OSError, ValueError):
        return None
    return cache.key(*parts)


def _version(name: str) -> str:
    try:
        return version(name)
    except PackageNotFoundError:
        return "-"


def _templates_dir() -> Path:
    from importlib.resources import files

    return Path(str(files("deckgen.templates")))


def _files(top: Path, skip: Path) -> list[Path]:
    """Every file below `top` in a fixed order, as a build may read it (hidden ones too), but for
    deckgen's temporary files, version control folders, caches and the output folder."""
    skipped = skip.resolve()
    found = []

    def unreadable(err: OSError) -> None:
        raise err  # a folder a build could not read: let the build say so

    for folder, dirs, names in os.walk(top, onerror=unreadable):
        dirs[:] = sorted(
            d for d in dirs if d not in _NOT_READ and (Path(folder) / d).resolve() != skipped
        )
        found += [Path(folder) / n for n in sorted(names) if not n.endswith(_TEMP_SUFFIX)]
    return found


_NOT_READ = {".git", ".hg", ".svn", "__pycache__", ".mypy_cache", ".ruff_cache"}
_TEMP_SUFFIX = ".deckgen-tmp"


_SUMMARY_KEYS = {"cards", "decks", "plots", "plots_drawn", "outputs", "unchanged", "import"}


def _record_name(out_dir: Path, outputs: tuple[str, ...], paper: str | None) -> str:
    return "last-build-" + cache.key(str(out_dir.resolve()), *sorted(outputs), str(paper))[:16]


def unchanged(
    cards_dir: Path, out_dir: Path, outputs: tuple[str, ...], paper: str | None
) -> dict[str, Any] | None:
    """Return the last build's summary if a build now would change nothing, else None."""
    build_time()  # a bad SOURCE_DATE_EPOCH is refused, build or no build
    folder = out_dir / ".cache"
    if not folder.is_dir() or not cards_dir.is_dir() or (out_dir / JOURNAL).exists():
        return None
    with exclusive([cards_dir, out_dir]):
        raw = cache.get(folder, _record_name(out_dir, outputs, paper))
        if raw is None:
            return None
        try:
            record = json.loads(raw)
            if record["fingerprint"] != fingerprint(cards_dir, out_dir, outputs, paper):
                return None
            for name, digest in record["outputs"].items():
                if hashlib.sha256(Path(name).read_bytes()).hexdigest() != digest:  # edited
                    return None
            summary: dict[str, Any] = record["summary"]
            if not summary.keys() >= _SUMMARY_KEYS:
                return None
        except (OSError, ValueError, KeyError, TypeError, AttributeError):
            return None  # gone, edited or not ours: build
        return summary


def remember(
    cards_dir: Path,
    out_dir: Path,
    outputs: tuple[str, ...],
    paper: str | None,
    written: dict[Path, bytes],
    summary: dict[str, Any],
) -> None:
    """Keep the record of a good build (called while the build still holds its folders)."""
    sources = fingerprint(cards_dir, out_dir, outputs, paper)
    if sources is None:
        return
    record = {
        "fingerprint": sources,
        "outputs": {
            str(path.resolve()): hashlib.sha256(data).hexdigest() for path, data in written.items()
        },
        "summary": summary,
    }
    cache.put(
        out_dir / ".cache", _record_name(out_dir, outputs, paper), json.dumps(record).encode()
    )
