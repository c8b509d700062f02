"""The pipeline: read the cards, check them, write the Anki package and the cheatsheet."""

from __future__ import annotations

import contextlib
import logging
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from deckgen import (
    cache,
    cheatsheet,
    commit,
    ids,
    model,
    package,
    parse,
    plots,
    report,
    scaffold,
    state,
    uptodate,
    verify,
)
from deckgen.config import CONFIG_NAME, BuildOptions, load_deck_config
from deckgen.errors import Problem, SourceErrors, SourceLoc, quote, raise_if_any
from deckgen.model import Deck
from deckgen.renders import Renders

log = logging.getLogger(__name__)

Progress = Callable[[str], None]


@dataclass(frozen=True)
class BuildResult:
    """What a build or check did, for the summary line."""

    cards: int
    decks: int
    ids_written: int
    seconds: float
    outputs: list[Path] = field(default_factory=list)
    unchanged: list[Path] = field(default_factory=list)  # outputs that already held these bytes
    plots: int = 0
    plots_drawn: int = 0  # the others came from the cache
    import_report: report.ImportReport | None = None  # what importing the package does in Anki

    def as_json(self) -> dict[str, Any]:
        """The summary as data (`deckgen build --json`)."""
        return {
            "cards": self.cards,
            "decks": self.decks,
            "ids_written": self.ids_written,
            "plots": self.plots,
            "plots_drawn": self.plots_drawn,
            "outputs": [str(p) for p in self.outputs],
            "unchanged": [str(p) for p in self.unchanged],
            "seconds": round(self.seconds, 3),
            "import": self.import_report.as_json() if self.import_report else None,
        }

    def as_no_op(self) -> dict[str, Any]:
        """The summary of building again with nothing changed."""
        summary = self.as_json()
        summary.update(ids_written=0, plots_drawn=0, unchanged=summary["outputs"])
        if self.import_report is not None:
            r = self.import_report
            summary["import"] = report.ImportReport(
                unchanged=r.added + r.updated + r.unchanged
            ).as_json()
        return summary


def build(options: BuildOptions, progress: Progress = lambda stage: None) -> BuildResult:
    """Build the deck's outputs; on any problem raise, leaving previous outputs untouched."""
    started = time.perf_counter()
    with workspace(options.cards_dir, options.out_dir):
        progress("reading cards")
        deck, written = load(options.cards_dir, write_ids=True, out_dir=options.out_dir)
        progress("verifying formulas")
        checked = verify.check(deck, cache_dir(options.out_dir))
        raise_if_any(checked.failures)
        _warn_undecided(checked)
        progress("drawing plots")
        figures = plots.render(deck.plots, cache_dir(options.out_dir))
        lock = state.load(options.cards_dir)
        config = deck.config
        outputs: dict[Path, bytes] = {}
        import_report = None
        if "apkg" in options.outputs:
            progress("writing the Anki package")
            apkg, import_report = _package(deck, lock, figures, options.cards_dir)
            outputs[options.out_dir / f"{config.slug}.apkg"] = apkg
            outputs[options.cards_dir / state.LOCK_NAME] = state.dumps(lock).encode()
        kinds = [kind for kind in ("pdf", "handout") if kind in options.outputs]
        if kinds:
            progress("typesetting the cheatsheet" if kinds == ["pdf"] else "typesetting the PDFs")
            pdfs = cheatsheet.build_pdfs(
                deck, options.paper or config.paper, figures, kinds, cache_dir(options.out_dir)
            )
            names = {"pdf": f"{config.slug}.pdf", "handout": f"{config.slug}-handout.pdf"}
            outputs.update({options.out_dir / names[kind]: pdf for kind, pdf in pdfs.items()})
        changed = commit.commit(outputs, options.out_dir)
        products = [path for path in outputs if path.name != state.LOCK_NAME]
        result = replace(
            _result(deck, written, started, products),
            unchanged=[path for path in products if path not in changed],
            plots=len(figures.by_key),
            plots_drawn=figures.drawn,
            import_report=import_report,
        )
        uptodate.remember(
            options.cards_dir,
            options.out_dir,
            options.outputs,
            options.paper,
            outputs,
            result.as_no_op(),
        )
    return result


def _warn_undecided(report: verify.Report) -> None:
    """Claims the checker could not decide are not known to be false: the build goes on."""
    for problem in report.undecided():
        log.warning("%s", problem)


def _package(
    deck: Deck, lock: state.Lock, figures: plots.Figures, cards_dir: Path
) -> tuple[bytes, report.ImportReport]:
    """Return the .apkg and what importing it will do; the lock records this build."""
    before = dict(lock.stamps)
    apkg = package.build_apkg(deck, lock, figures)
    changed = {note.card.id or "" for note in deck.notes if _restamped(note, lock, before)}
    import_report = report.compare(deck, changed, lock.built, lock.title)
    _note_title_change(lock, deck.config.title, cards_dir)
    lock.built = report.manifest(deck)
    return apkg, import_report


def _restamped(note: model.Note, lock: state.Lock, before: dict[str, state.Stamp]) -> bool:
    key = f"note:{note.card.id}"
    return lock.stamps.get(key) != before.get(key)


@contextlib.contextmanager
def workspace(cards_dir: Path, out_dir: Path | None) -> Iterator[None]:
    """Lock the folders a command writes to, and finish or clean up after a stopped build."""
    if not cards_dir.is_dir():
        raise SourceErrors([Problem(SourceLoc(cards_dir, 0), "cards folder not found")])
    folders = [cards_dir]
    if out_dir is not None:
        try:
            out_dir.mkdir(parents=True, exist_ok=True)
        except OSError as err:
            message = f"cannot make the output folder: {err.strerror}"
            raise SourceErrors([Problem(SourceLoc(out_dir, 0), message)]) from None
        folders.append(out_dir)
    with commit.exclusive(folders):
        if out_dir is not None:
            commit.finish(out_dir)
        commit.clean_stale(folders)
        yield


def _note_title_change(lock: state.Lock, title: str, cards_dir: Path) -> None:
    """Warn that Anki keeps imported cards in the decks of the old title."""
    if lock.title is not None and lock.title != title:
        log.warning(
            "%s: the deck title changed from '%s' to '%s': Anki keeps the cards already imported"
            " in '%s' (move them there with Browse › Change Deck); only new cards go to '%s'",
            SourceLoc(cards_dir / CONFIG_NAME, 1),
            quote(lock.title),
            quote(title),
            quote(lock.title),
            quote(title),
        )
    lock.title = title


def prune(cards_dir: Path) -> int:
    """Drop the lock's stamps of cards no longer in the sources; return how many went."""
    with workspace(cards_dir, None):
        deck, _ = load(cards_dir, write_ids=False)
        lock = state.load(cards_dir)
        kept = lock.without_notes_except({note.card.id or "" for note in deck.notes})
        dropped = len(lock.stamps) - len(kept.stamps)
        if dropped:
            path = cards_dir / state.LOCK_NAME
            commit.commit({path: state.dumps(kept).encode()}, cards_dir)
    return dropped


def check(cards_dir: Path, out_dir: Path) -> BuildResult:
    """Validate the cards as a build would, writing nothing (results cached by builds help)."""
    started = time.perf_counter()
    deck, _ = load(cards_dir, write_ids=False)
    checked = verify.check(deck, cache_dir(out_dir), save=False)
    raise_if_any(checked.failures)
    _warn_undecided(checked)
    state.load(cards_dir)  # a broken lock file would fail the build: report it here too
    return _result(deck, 0, started, [])


def verify_formulas(cards_dir: Path, out_dir: Path) -> verify.Report:
    """Check every formula's claims, caching results under the output folder."""
    with workspace(cards_dir, out_dir):
        deck, _ = load(cards_dir, write_ids=False)
        return verify.check(deck, cache_dir(out_dir))


def clean(out_dir: Path) -> bool:
    """Empty the cache of verification results, plots and PDFs; return whether there was one."""
    if not cache_dir(out_dir).exists():
        return False
    with commit.exclusive([out_dir]):  # not while a build uses it
        return cache.clear(cache_dir(out_dir))


def cache_dir(out_dir: Path) -> Path:
    """Where verification results and drawn plots are kept between builds."""
    return out_dir / ".cache"


def new_card_file(path: Path, cards_dir: Path, deck: str | None) -> str:
    """Start a card file with one card; return the card's id."""
    with workspace(cards_dir, None):
        return scaffold.new_card_file(path, cards_dir, deck)


def write_ids(cards_dir: Path) -> int:
    """Write ids into the headings of cards that have none; return how many."""
    with workspace(cards_dir, None):
        load_deck_config(cards_dir)
        return ids.write_missing(parse.read_all(cards_dir))


def load(cards_dir: Path, *, write_ids: bool, out_dir: Path | None = None) -> tuple[Deck, int]:
    """Read, id and assemble every card; raise with all problems if there are any.

    With `out_dir`, cards rendered by the last build there are reused, and this build's kept.
    """
    config = load_deck_config(cards_dir)
    files = parse.read_all(cards_dir)
    written = ids.write_missing(files) if write_ids else 0
    if written:
        files = parse.read_all(cards_dir)
    renders = Renders(cache_dir(out_dir), cards_dir) if out_dir is not None else None
    deck, problems = model.assemble(files, config, cards_dir, renders)
    if renders is not None:
        renders.save()  # every card rendered without a problem: good for the next build too
    raise_if_any(problems + ids.missing(files))
    return deck, written


def _result(deck: Deck, written: int, started: float, outputs: list[Path]) -> BuildResult:
    seconds = time.perf_counter() - started
    return BuildResult(len(deck.notes), len(deck.sections), written, seconds, outputs)
