"""Rebuilding: what did not change is neither typeset nor written again; the cache is checked."""

from __future__ import annotations

from pathlib import Path

import pytest
from conftest import deckgen

from deckgen import cache, cheatsheet

OUTPUTS = ("test-deck.apkg", "test-deck.pdf", "test-deck-handout.pdf")


def build(project: Path) -> str:
    result = deckgen("build")
    assert result.exit_code == 0, result.output
    return result.output


def stamps(project: Path) -> dict[str, tuple[int, int]]:
    paths = [project / "build" / name for name in OUTPUTS] + [project / "cards/deckgen.lock"]
    return {path.name: (path.stat().st_ino, path.stat().st_mtime_ns) for path in paths}


def no_typesetting(*args: object, **kwargs: object) -> bytes:
    raise AssertionError("a PDF was typeset again")


def test_a_rebuild_with_nothing_changed_typesets_and_writes_nothing(
    project: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    build(project)
    before = stamps(project)
    monkeypatch.setattr(cheatsheet, "_typeset", no_typesetting)
    output = build(project)
    assert stamps(project) == before
    assert output.count("(unchanged)") == 3


def test_an_edited_card_is_typeset_again(project: Path) -> None:
    build(project)
    sheet = (project / "build/test-deck.pdf").read_bytes()
    stats = project / "cards/01-statistics.md"
    stats.write_text(stats.read_text().replace("The average of the observations:", "The mean:"))
    output = build(project)
    assert "(unchanged)" not in output
    assert (project / "build/test-deck.pdf").read_bytes() != sheet
    assert len(list((project / "build/.cache/pdf").iterdir())) == 4  # old and new, both PDFs


def test_a_damaged_cache_entry_is_made_again_never_used(project: Path) -> None:
    build(project)
    good = {name: (project / "build" / name).read_bytes() for name in OUTPUTS}
    entries = sorted((project / "build/.cache/pdf").iterdir())
    damages = [
        lambda data: data[: len(data) // 2],  # truncated
        lambda data: data[:100] + bytes([data[100] ^ 1]) + data[101:],  # one bit flipped
    ]
    for entry, damage in zip(entries, damages, strict=True):
        entry.write_bytes(damage(entry.read_bytes()))
    for name in OUTPUTS:
        (project / "build" / name).unlink()
    build(project)
    assert {name: (project / "build" / name).read_bytes() for name in OUTPUTS} == good
    assert all(cache.get(entry.parent, entry.name) is not None for entry in entries)


def test_clean_empties_the_cache(project: Path) -> None:
    build(project)
    assert (project / "build/.cache/pdf").is_dir()
    result = deckgen("clean")
    assert result.exit_code == 0 and "emptied" in result.output
    assert not (project / "build/.cache").exists()
    assert (project / "build/test-deck.pdf").is_file()  # the outputs stay
    assert "no cache to empty" in deckgen("clean").output
    build(project)  # typesets afresh, filling the cache again
    assert len(list((project / "build/.cache/pdf").iterdir())) == 2
