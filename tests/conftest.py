"""Shared fixtures: a copy of the small test deck, the CLI, and a real Anki collection."""

from __future__ import annotations

import shutil
import sqlite3
import subprocess
import sys
import zipfile
from collections.abc import Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from deckgen.cli import main

FIXTURES = Path(__file__).parent / "fixtures"


@pytest.fixture
def project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A working folder holding a copy of the test deck as `cards/`; the cwd during the test."""
    shutil.copytree(FIXTURES / "deck", tmp_path / "cards")
    monkeypatch.chdir(tmp_path)
    return tmp_path


def build_test_deck(root: Path) -> Path:
    """Copy the test deck to `root/cards` and build it there in a real process; return root."""
    shutil.copytree(FIXTURES / "deck", root / "cards")
    result = subprocess.run(
        [sys.executable, "-m", "deckgen", "build"], cwd=root, capture_output=True, text=True
    )
    assert result.returncode == 0, result.stderr
    return root


def deckgen(*args: str) -> Result:
    """Run the real command line in-process; an exception other than an exit is a deckgen bug."""
    result = CliRunner().invoke(main, list(args))
    if result.exception is not None and not isinstance(result.exception, SystemExit):
        raise result.exception
    return result


def built(project: Path, *args: str) -> Path:
    """Build the deck in `project` and return the .apkg path."""
    result = deckgen("build", *args)
    assert result.exit_code == 0, result.output
    return project / "build" / "test-deck.apkg"


def apkg_notes(apkg: Path) -> dict[str, tuple[int, list[str]]]:
    """Read the notes inside an .apkg: GUID -> (mod, fields)."""
    with zipfile.ZipFile(apkg) as archive:
        db = apkg.with_suffix(".extracted.anki2")
        db.write_bytes(archive.read("collection.anki2"))
    with sqlite3.connect(db) as conn:
        rows = conn.execute("SELECT guid, mod, flds FROM notes").fetchall()
    conn.close()
    db.unlink()
    return {guid: (mod, flds.split("\x1f")) for guid, mod, flds in rows}


@pytest.fixture
def collection(tmp_path: Path) -> Iterator[object]:
    """An empty Anki collection, from the official `anki` package."""
    from anki.collection import Collection

    (tmp_path / "anki").mkdir()
    col = Collection(str(tmp_path / "anki" / "collection.anki2"))
    yield col
    col.close()


def import_apkg(col: object, apkg: Path) -> None:
    """Import a package with Anki's default options: update notes when the incoming one is newer."""
    from anki.collection import ImportAnkiPackageOptions, ImportAnkiPackageRequest
    from anki.import_export_pb2 import ImportAnkiPackageUpdateCondition as Update

    options = ImportAnkiPackageOptions(
        with_scheduling=True,
        merge_notetypes=False,
        update_notes=Update.IMPORT_ANKI_PACKAGE_UPDATE_CONDITION_IF_NEWER,
        update_notetypes=Update.IMPORT_ANKI_PACKAGE_UPDATE_CONDITION_IF_NEWER,
    )
    col.import_anki_package(  # type: ignore[attr-defined]
        ImportAnkiPackageRequest(package_path=str(apkg), options=options)
    )
