"""The pipeline: read the cards, check them, write the Anki package and the cheatsheet."""

from __future__ import annotations

import contextlib
import os
import time
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from pathlib import Path

from deckgen import cheatsheet, ids, model, package, parse, plots, state, verify
from deckgen.config import BuildOptions, load_deck_config
from deckgen.errors import DeckgenError, raise_if_any
from deckgen.model import Deck

Progress = Callable[[str], None]


@dataclass(frozen=True)
class BuildResult:
    """What a build or check did, for the summary line."""

    cards: int
    decks: int
    ids_written: int
    seconds: float
    outputs: list[Path] = field(default_factory=list)
    plots: int = 0
    plots_drawn: int = 0  # the others came from the cache


def build(options: BuildOptions, progress: Progress = lambda stage: None) -> BuildResult:
    """Build the deck's outputs; on any problem raise, leaving previous outputs untouched."""
    started = time.perf_counter()
    progress("reading cards")
    deck, written = load(options.cards_dir, write_ids=True)
    progress("verifying formulas")
    raise_if_any(verify.check(deck, cache_dir(options.out_dir)).failures)
    progress("drawing plots")
    figures = plots.render(deck.plots, cache_dir(options.out_dir))
    lock = state.load(options.cards_dir)
    config = deck.config
    outputs: dict[Path, bytes] = {}
    if "apkg" in options.outputs:
        progress("writing the Anki package")
        outputs[options.out_dir / f"{config.slug}.apkg"] = package.build_apkg(deck, lock, figures)
        outputs[options.cards_dir / state.LOCK_NAME] = state.dumps(lock.kept_used()).encode()
    if "pdf" in options.outputs:
        progress("typesetting the cheatsheet")
        outputs[options.out_dir / f"{config.slug}.pdf"] = cheatsheet.build_pdf(
            deck, options.paper or config.paper, figures
        )
    write_atomically(outputs)
    products = [path for path in outputs if path.parent == options.out_dir]
    result = _result(deck, written, started, products)
    return replace(result, plots=len(figures.by_key), plots_drawn=figures.drawn)


def check(cards_dir: Path, out_dir: Path) -> BuildResult:
    """Validate the cards as a build would, writing nothing (results cached by builds help)."""
    started = time.perf_counter()
    deck, _ = load(cards_dir, write_ids=False)
    raise_if_any(verify.check(deck, cache_dir(out_dir), save=False).failures)
    state.load(cards_dir)  # a broken lock file would fail the build: report it here too
    return _result(deck, 0, started, [])


def verify_formulas(cards_dir: Path, out_dir: Path) -> verify.Report:
    """Check every formula's claims, caching results under the output folder."""
    deck, _ = load(cards_dir, write_ids=False)
    return verify.check(deck, cache_dir(out_dir))


def cache_dir(out_dir: Path) -> Path:
    """Where verification results and drawn plots are kept between builds."""
    return out_dir / ".cache"


def write_ids(cards_dir: Path) -> int:
    """Write ids into the headings of cards that have none; return how many."""
    load_deck_config(cards_dir)
    return ids.write_missing(parse.read_all(cards_dir))


def load(cards_dir: Path, *, write_ids: bool) -> tuple[Deck, int]:
    """Read, id and assemble every card; raise with all problems if there are any."""
    config = load_deck_config(cards_dir)
    files = parse.read_all(cards_dir)
    written = ids.write_missing(files) if write_ids else 0
    if written:
        files = parse.read_all(cards_dir)
    deck, problems = model.assemble(files, config, cards_dir)
    raise_if_any(problems + ids.missing(files))
    return deck, written


def write_atomically(outputs: dict[Path, bytes]) -> None:
    """Write every file under a temporary name, then rename them all into place."""
    temps: dict[Path, Path] = {}
    try:
        for path, data in outputs.items():
            path.parent.mkdir(parents=True, exist_ok=True)
            temps[path] = path.with_name(f".{path.name}.{os.getpid()}.tmp")
            temps[path].write_bytes(data)
        for path, temp in temps.items():
            os.replace(temp, path)
    except OSError as err:
        for temp in temps.values():
            with contextlib.suppress(FileNotFoundError):
                temp.unlink()
        raise DeckgenError(f"cannot write {err.filename}: {err.strerror}") from None


def _result(deck: Deck, written: int, started: float, outputs: list[Path]) -> BuildResult:
    seconds = time.perf_counter() - started
    return BuildResult(len(deck.notes), len(deck.sections), written, seconds, outputs)
