"""Rebuilding: what did not change is neither typeset nor written again; the cache is checked."""

from __future__ import annotations

import json
import logging
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest
from conftest import apkg_notes, deckgen

from deckgen import cache, cheatsheet, model, renders, uptodate
from deckgen.parse import Card

OUTPUTS = ("test-deck.apkg", "test-deck.pdf", "test-deck-handout.pdf")


def build(project: Path) -> str:
    result = deckgen("build")
    assert result.exit_code == 0, result.output
    return result.output


def stamps(project: Path) -> dict[str, tuple[int, int]]:
    paths = [project / "build" / name for name in OUTPUTS] + [project / "cards/deckgen.lock"]
    return {path.name: (path.stat().st_ino, path.stat().st_mtime_ns) for path in paths}


def no_typesetting(pages: dict[str, str], *args: object) -> dict[str, object]:
    if pages:
        raise AssertionError(f"typeset again: {sorted(pages)}")
    return {}


def test_a_rebuild_with_nothing_changed_typesets_and_writes_nothing(
    project: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    build(project)
    before = stamps(project)
    monkeypatch.setattr(cheatsheet, "_lay_out_all", no_typesetting)
    output = build(project)
    assert stamps(project) == before
    assert output.count("(unchanged)") == 3
    monkeypatch.setattr(uptodate, "unchanged", lambda *args: None)  # the whole build runs: the
    output = build(project)  # caches answer
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


def test_a_rebuild_with_nothing_changed_loads_no_heavy_library(project: Path) -> None:
    build(project)
    before = stamps(project)
    done = subprocess.run(
        [sys.executable, "-X", "importtime", "-m", "deckgen", "build"],
        cwd=project,
        capture_output=True,
        text=True,
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.count("(unchanged)") == 3
    imported = {line.split("|")[-1].strip() for line in done.stderr.splitlines() if "|" in line}
    assert not imported & {"sympy", "matplotlib", "weasyprint", "markdown_it", "genanki", "PIL"}
    assert stamps(project) == before


@pytest.mark.parametrize("edit", ["card", "image", "output", "lock"])
def test_any_change_to_sources_or_outputs_builds_again(
    project: Path, edit: str, caplog: pytest.LogCaptureFixture
) -> None:
    build(project)
    good = (project / "build/test-deck.pdf").read_bytes()
    if edit == "card":
        stats = project / "cards/01-statistics.md"
        stats.write_text(stats.read_text().replace("The average of", "The mean of"))
    elif edit == "image":
        figure = next((project / "cards/figures").iterdir())
        figure.write_bytes(figure.read_bytes() + b"\0")  # PNG readers ignore trailing bytes
    elif edit == "output":
        (project / "build/test-deck.pdf").write_bytes(b"%PDF-1.7 edited by hand")
    else:
        lock = project / "cards/deckgen.lock"
        lock.write_text(lock.read_text().replace('"title": "Test Deck"', '"title": "Old Deck"'))
    with caplog.at_level(logging.WARNING):
        output = build(project)
    if edit == "lock":  # a real build ran: it points out the title the lock remembers
        assert "the deck title changed from 'Old Deck' to 'Test Deck'" in caplog.text
    else:
        assert output.count("(unchanged)") < 3
    if edit == "output":
        assert (project / "build/test-deck.pdf").read_bytes() == good  # restored


def test_a_hidden_card_file_is_a_source_too(project: Path) -> None:
    build(project)
    hidden = project / "cards/.drafts/extra.md"
    hidden.parent.mkdir()
    hidden.write_text("---\ndeck: Statistics\n---\n\n## Extra {#extra}\n\nA: more\n")
    assert "8 cards" in build(project)  # the build reads it, so it counts as a change


def test_a_build_with_nothing_to_do_still_reports_as_json(project: Path) -> None:
    build(project)
    result = deckgen("build", "--json")
    assert result.exit_code == 0
    summary = json.loads(result.stdout)
    assert summary["unchanged"] == summary["outputs"] and len(summary["outputs"]) == 3
    assert summary["import"]["added"] == [] and len(summary["import"]["unchanged"]) == 7


def rendered_cards(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Record the id of every card rendered from its Markdown in the builds that follow."""
    seen: list[str] = []
    real = model.render_card

    def recording(card: Card, cards_dir: Path) -> object:
        seen.append(card.id or "")
        return real(card, cards_dir)

    monkeypatch.setattr(model, "render_card", recording)
    monkeypatch.setattr(uptodate, "unchanged", lambda *args: None)  # the whole build runs
    return seen


def test_editing_one_card_renders_only_it_again(
    project: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    build(project)
    good = apkg_notes(project / "build/test-deck.apkg")
    seen = rendered_cards(monkeypatch)
    build(project)
    assert seen == []  # nothing changed: every card comes from the cache
    assert apkg_notes(project / "build/test-deck.apkg") == good
    stats = project / "cards/01-statistics.md"
    stats.write_text(stats.read_text().replace("The average of", "The mean of"))
    build(project)
    assert seen == ["sample-mean"]
    fields = [fields for _, fields in apkg_notes(project / "build/test-deck.apkg").values()]
    assert any("The mean of" in field for note in fields for field in note)


WRONG_MEAN = r"""---
deck: Statistics
---

## Poisson mean {#poisson-mean}

What is the mean of a Poisson variable?

A: $$P(X = k) = \frac{\lambda^k e^{-\lambda}}{k!}, \qquad k = 0, 1, 2, \dots$$

```verify
where \lambda > 0
pmf k: P(X = k)
mean: \lambda^2
```

Notes: One in six is $1/6 \approx 0.18$.
"""


def test_a_card_moved_down_its_file_is_not_rendered_again_and_is_placed_anew(
    project: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    card = project / "cards/extra.md"
    card.write_text(WRONG_MEAN)  # renders well; its claim fails, at the line of `mean:`
    first = deckgen("build")
    assert first.exit_code == 1 and "cards/extra.md:14: mean:" in first.output, first.output
    assert "cards/extra.md:17: approximation '1/6 \\approx 0.18' fails" in first.output
    seen = rendered_cards(monkeypatch)
    card.write_text(WRONG_MEAN.replace("---\n\n", "---\n\n\n\n", 1))  # two lines down
    second = deckgen("build")
    assert seen == []
    assert second.exit_code == 1 and "cards/extra.md:16: mean:" in second.output, second.output
    assert "cards/extra.md:19: approximation '1/6 \\approx 0.18' fails" in second.output


def test_a_changed_image_renders_its_card_again(
    project: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    build(project)
    seen = rendered_cards(monkeypatch)
    figure = project / "cards/figures/dot.png"
    figure.write_bytes(figure.read_bytes() + b"\0")  # PNG readers ignore trailing bytes
    build(project)
    assert seen == ["normal-curve"]
    with zipfile.ZipFile(project / "build/test-deck.apkg") as apkg:
        media = json.loads(apkg.read("media"))
        by_name = {name: apkg.read(number) for number, name in media.items()}
    assert figure.read_bytes() in by_name.values()


def test_a_damaged_or_malformed_rendering_is_made_again_never_used(
    project: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    build(project)
    good = (project / "build/test-deck.apkg").read_bytes()
    folder = project / "build/.cache"
    stored = json.loads(cache.get(folder, renders.NAME) or b"")
    seen = rendered_cards(monkeypatch)
    wrong_shape = {
        key: ({**entry, "html": [1, 2, 3]} if i == 0 else entry)
        for i, (key, entry) in enumerate(stored.items())
    }
    entry = folder / renders.NAME
    damages = {
        "truncated": lambda: entry.write_bytes(entry.read_bytes()[:500]),
        "one bit flipped": lambda: entry.write_bytes(
            bytes([entry.read_bytes()[0] ^ 1]) + entry.read_bytes()[1:]
        ),
        "one entry of the wrong shape": lambda: cache.put(
            folder, renders.NAME, json.dumps(wrong_shape).encode()
        ),
        "not JSON": lambda: cache.put(folder, renders.NAME, b"{not json"),
    }
    for name, damage in damages.items():
        damage()
        seen.clear()
        (project / "build/test-deck.apkg").unlink()
        build(project)
        assert (project / "build/test-deck.apkg").read_bytes() == good, name
        assert seen, name  # rendered again, not taken from the damaged cache


def flip_a_bit(data: bytes) -> bytes:
    middle = len(data) // 2
    return data[:middle] + bytes([data[middle] ^ 1]) + data[middle + 1 :]


@pytest.mark.parametrize("kind", ["plots/*", "verify.json", "cards", "pdf/*"])
def test_a_damaged_cache_entry_of_any_kind_builds_the_same_outputs(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, kind: str
) -> None:
    shutil.copytree(Path(__file__).parent / "fixtures/plots", tmp_path / "cards")
    monkeypatch.chdir(tmp_path)
    build(tmp_path)
    outputs = sorted(path for path in (tmp_path / "build").iterdir() if path.is_file())
    good = {path.name: path.read_bytes() for path in outputs}
    entries = sorted((tmp_path / "build/.cache").glob(kind))
    assert entries
    for number, entry in enumerate(entries):
        data = entry.read_bytes()
        entry.write_bytes(data[: len(data) // 2] if number % 2 else flip_a_bit(data))
        assert cache.get(entry.parent, entry.name) is None  # the damage is seen
    for path in outputs:
        path.unlink()
    output = build(tmp_path)
    assert {path.name: path.read_bytes() for path in outputs} == good
    if kind == "plots/*":
        assert "3 plots (3 drawn)" in output
