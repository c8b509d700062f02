"""The command line: flags to options, one call into the library, a summary line."""

from __future__ import annotations

import json
import logging
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from deckgen import __version__, uptodate
from deckgen.config import OUTPUTS, PAPERS, BuildOptions
from deckgen.errors import Problem, SourceErrors, SourceLoc, printable, quote

if TYPE_CHECKING:  # the build pulls in the whole pipeline: imported when a command runs
    from deckgen.build import BuildResult

_OUT = click.option(
    "--out",
    "out_dir",
    type=click.Path(path_type=Path),  # checked by the build, which reports it as path:0
    default=Path("build"),
    show_default=True,
    help="Folder for the outputs (and the verification cache, in .cache/).",
)
_CARDS = click.option(
    "--cards",
    "cards_dir",
    type=click.Path(path_type=Path),
    default=Path("cards"),
    show_default=True,
    help="Folder holding deck.yaml and the card files.",
)


class _Commands(click.Group):
    """The command group, turning a file system error deckgen did not foresee into a message."""

    def invoke(self, ctx: click.Context) -> object:
        try:
            return super().invoke(ctx)
        except OSError as err:
            where = SourceLoc(Path(str(err.filename or ".")), 0)
            raise SourceErrors([Problem(where, err.strerror or str(err))]) from None


@click.group(cls=_Commands)
@click.version_option(__version__, prog_name="deckgen")
def main() -> None:
    """Compile Markdown + LaTeX flashcards into an Anki package and a printable PDF."""
    logging.basicConfig(level=logging.WARNING, format="%(message)s")
    # WeasyPrint warns about its font subsetting backend on every build: nothing a user can act on.
    for noisy in ("weasyprint", "fontTools"):
        logging.getLogger(noisy).setLevel(logging.ERROR)


@main.command()
@_CARDS
@_OUT
@click.option(
    "--paper",
    type=click.Choice(PAPERS),
    default=None,
    help="Paper of the PDF (default: deck.yaml's, else a4), landscape.",
)
@click.option(
    "--only",
    type=click.Choice(OUTPUTS),
    multiple=True,
    help="Write only this output (repeat for several): apkg, pdf (the cheatsheet), handout.",
)
@click.option(
    "--json",
    "as_json",
    is_flag=True,
    help="Print the summary and the re-import report as JSON (problems still go to stderr).",
)
def build(
    cards_dir: Path, out_dir: Path, paper: str | None, only: tuple[str, ...], as_json: bool
) -> None:
    """Write <out>/<slug>.apkg, the cheatsheet <slug>.pdf and <slug>-handout.pdf."""
    options = BuildOptions(cards_dir, out_dir, paper, only or OUTPUTS)
    started = time.perf_counter()
    summary = uptodate.unchanged(cards_dir, out_dir, options.outputs, paper)
    if summary is not None:  # nothing changed since the last build: nothing to do
        summary["seconds"] = round(time.perf_counter() - started, 3)
        if as_json:
            click.echo(json.dumps(summary, indent=1, ensure_ascii=False))
        else:
            _print_summary(summary)
        return
    from deckgen.build import build as run_build  # the whole pipeline: only when there is work

    stages = 3 + ("apkg" in options.outputs) + any(kind != "apkg" for kind in options.outputs)
    with _progress(stages) as progress:
        result = run_build(options, progress)
    if as_json:
        click.echo(json.dumps(result.as_json(), indent=1, ensure_ascii=False))
        return
    _print_result(result)


def _print_result(result: BuildResult) -> None:
    _report_ids(result.ids_written)
    _print_summary(result.as_json())
    if result.import_report is not None:
        for line in result.import_report.warnings():
            click.echo(f"  {printable(line)}")


def _print_summary(summary: dict[str, Any]) -> None:
    """The summary line, and what importing the package will do."""
    outputs = ", ".join(
        printable(p) + (" (unchanged)" if p in summary["unchanged"] else "")
        for p in summary["outputs"]
    )
    plots = (
        f", {summary['plots']} plots ({summary['plots_drawn']} drawn)" if summary["plots"] else ""
    )
    cards = _cards(summary["cards"], summary["decks"])
    click.echo(f"{cards}{plots} -> {outputs} ({summary['seconds']:.1f} s)")
    imported = summary["import"]
    if imported is None:
        return
    if imported["first_build"]:
        click.echo("no previous build recorded: the next builds will say what Anki will do")
        return
    added = len(imported["added"])
    click.echo(
        f"on import, Anki will add {added} note{'s' if added != 1 else ''},"
        f" update {len(imported['updated'])} and leave {len(imported['unchanged'])} unchanged"
    )


@main.command()
@_CARDS
@_OUT
@click.option("--paper", type=click.Choice(PAPERS), default=None, help="Paper of the PDFs.")
@click.option(
    "--only",
    type=click.Choice(OUTPUTS),
    multiple=True,
    help="Write only this output (repeat for several): apkg, pdf (the cheatsheet), handout.",
)
@click.option(
    "--port",
    type=click.IntRange(0, 65535),
    default=8765,
    show_default=True,
    help="Port of the preview on 127.0.0.1 (0: any free port).",
)
@click.option("--no-preview", is_flag=True, help="Serve no preview: only build.")
def watch(
    cards_dir: Path,
    out_dir: Path,
    paper: str | None,
    only: tuple[str, ...],
    port: int,
    no_preview: bool,
) -> None:
    """Build, then build again whenever a card file, an image or deck.yaml changes; serve a
    preview of the cards that follows every build."""
    import threading

    from deckgen.build import build as run_build
    from deckgen.errors import DeckgenError
    from deckgen.preview import Preview
    from deckgen.watch import Changes
    from deckgen.watch import watch as run_watch

    options = BuildOptions(cards_dir, out_dir, paper, only or OUTPUTS)
    preview = None if no_preview else Preview(port)

    def rebuild(changes: Changes | None) -> None:
        if changes is not None:
            click.echo(printable(str(changes)))
        try:
            result = run_build(options)
        except (DeckgenError, OSError) as err:
            if isinstance(err, OSError):
                where = SourceLoc(Path(str(err.filename or ".")), 0)
                err = SourceErrors([Problem(where, err.strerror or str(err))])
            err.show()
            if preview is not None:
                preview.failed(err.format_message())
            click.echo("the build failed: the last good outputs stay; watching for the next save")
            return
        _print_result(result)
        if preview is not None:
            preview.built(result.outputs)

    click.echo(f"watching {printable(str(cards_dir))} (Ctrl-C stops)")
    if preview is not None:
        click.echo(f"preview: {preview.url}")
    try:
        run_watch(cards_dir, rebuild, threading.Event())
    except KeyboardInterrupt:
        click.echo("stopped")
    finally:
        if preview is not None:
            preview.stop()


@main.command()
@_CARDS
@_OUT
def check(cards_dir: Path, out_dir: Path) -> None:
    """Validate the cards and verify their formulas without writing anything."""
    from deckgen.build import check as run_check

    result = run_check(cards_dir, out_dir)
    click.echo(f"{_cards(result.cards, result.decks)}: no problems ({result.seconds:.1f} s)")


@main.command()
@_CARDS
@_OUT
@click.option("--strict", is_flag=True, help="Fail on formulas marked `unverified` too.")
def verify(cards_dir: Path, out_dir: Path, strict: bool) -> None:
    """Check every formula's claims with SymPy and print what was proved."""
    from deckgen.build import verify_formulas
    from deckgen.errors import raise_if_any

    report = verify_formulas(cards_dir, out_dir)
    _print_table(report.table())
    for loc, reason in report.unclaimed():
        if reason is not None:  # formulas with no block at all are among the failures below
            click.echo(f"{loc}: unverified: {quote(reason, 200)}")
    # with --strict, these are among the failures
    for problem in [] if strict else report.unverified_inline() + report.undecided():
        click.echo(str(problem))
    cached = len(report.results) - report.checked
    click.echo(f"{report.checked} claims checked, {cached} from the cache ({report.seconds:.1f} s)")
    raise_if_any(report.strict_failures() if strict else report.failures)


def _print_table(rows: list[tuple[str, ...]]) -> None:
    from deckgen.verify import TABLE

    total = ("total", *(str(sum(int(row[i]) for row in rows)) for i in range(1, len(TABLE))))
    width = max(len(str(row[0])) for row in [TABLE, *rows, total])
    for row in [TABLE, *rows, total]:
        widths = [len(name) + 2 for name in TABLE[1:]]
        cells = "".join(f"{cell:>{w}}" for cell, w in zip(row[1:], widths, strict=True))
        click.echo(f"{printable(str(row[0])):<{width}}{cells}")


@main.command()
@_CARDS
def ids(cards_dir: Path) -> None:
    """Write a permanent id into every card heading that has none."""
    from deckgen.build import write_ids

    _report_ids(write_ids(cards_dir))


@main.command()
@_CARDS
@click.argument("path", type=click.Path(path_type=Path))
@click.option(
    "--deck", default=None, help="Its Anki deck below the top level (default: from PATH)."
)
def new(cards_dir: Path, path: Path, deck: str | None) -> None:
    """Start a card file at PATH (inside the cards folder) with front matter and one card."""
    from deckgen.build import new_card_file

    card_id = new_card_file(path, cards_dir, deck)
    click.echo(f"wrote {printable(str(path))} with card '{card_id}': fill it in, then build")


@main.command()
@_OUT
def clean(out_dir: Path) -> None:
    """Empty the build cache (<out>/.cache): the next build checks, draws and typesets afresh."""
    from deckgen.build import clean as run_clean

    emptied = run_clean(out_dir)
    click.echo(f"emptied {printable(str(out_dir / '.cache'))}" if emptied else "no cache to empty")


@main.command()
@_CARDS
def prune(cards_dir: Path) -> None:
    """Forget the lock's stamps of cards deleted from the sources (keep them to restore cards)."""
    from deckgen.build import prune as run_prune

    dropped = run_prune(cards_dir)
    click.echo(f"removed {dropped} stamp{'s' if dropped != 1 else ''} of deleted cards")


def _cards(cards: int, decks: int) -> str:
    return f"{cards} card{'s' if cards != 1 else ''} in {decks} deck{'s' if decks != 1 else ''}"


def _report_ids(written: int) -> None:
    if written:
        click.echo(
            f"wrote ids into {written} card heading{'s' if written != 1 else ''}: commit them"
        )


@contextmanager
def _progress(stages: int) -> Iterator[Callable[[str], None]]:
    """Show the build's stages as a progress bar on a terminal, nothing otherwise."""
    if not sys.stderr.isatty():
        yield lambda stage: None
        return
    with click.progressbar(length=stages, label="building", file=sys.stderr) as bar:
        begun: list[str] = []

        def begin(stage: str) -> None:
            if begun:  # the stage before this one is done
                bar.update(1)
            begun.append(stage)
            bar.label = stage
            bar.render_progress()

        yield begin
        bar.label = "done"
        bar.update(1)
