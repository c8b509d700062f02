"""Write the printable cheatsheet: print HTML of the cards, a Jinja2 template, WeasyPrint."""

from __future__ import annotations

import io
import logging
import multiprocessing
import os
from collections.abc import Iterator, Mapping, Sequence
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from contextlib import contextmanager
from dataclasses import dataclass
from functools import lru_cache
from importlib.metadata import version
from importlib.util import find_spec
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlsplit

import jinja2

from deckgen import __version__, cache
from deckgen.clock import Timeout, time_limit
from deckgen.errors import DeckgenError, Problem, SourceLoc, quote, raise_if_any
from deckgen.markup import code_css, read_template, render
from deckgen.model import Deck, Note, inline_html
from deckgen.plots import Figures

log = logging.getLogger(__name__)

PAGE_SIZES = {"a4": "A4 landscape", "letter": "letter landscape"}


@dataclass(frozen=True)
class Entry:
    """One card as the cheatsheet shows it."""

    id: str
    kind: str
    title: str
    question: str
    answer: str
    notes: str = ""
    plots: int = 0
    sheet: bool = True  # printed on the cheatsheet too, not only in the handout


@dataclass(frozen=True)
class Section:
    """The entries of one deck."""

    name: str
    entries: list[Entry]


def build_pdfs(
    deck: Deck, paper: str, figures: Figures, kinds: Sequence[str], cache_dir: Path | None = None
) -> dict[str, bytes]:
    """Return the PDFs asked for ("pdf": the cheatsheet, "handout"), the cards printed once.

    A long handout is typeset in parts of whole sections (each part starts a page), which are
    joined and numbered afterwards: memory stays bounded and the parts share the cores. The cache
    holds each part's PDF by a key of its HTML, the images it shows and the versions of what lays
    it out; the parts not in it are typeset side by side, one per process.
    """
    printed = sections(deck, {key: figure.svg for key, figure in figures.by_key.items()})
    pages = {
        (kind, index): page
        for kind in kinds
        for index, page in enumerate(_pages(deck, paper, printed, kind))
    }
    folder = cache_dir / "pdf" if cache_dir is not None else None
    keys = {part: _cache_key(deck, page) for part, page in pages.items()}
    pdfs: dict[Part, bytes] = {}
    for part in pages:
        cached = cache.get(folder, keys[part]) if folder is not None else None
        if cached is not None and cached.startswith(b"%PDF-"):
            log.info("the %s is unchanged: taken from the cache", _NAMES[part[0]])
            pdfs[part] = cached
    todo = {part: page for part, page in pages.items() if part not in pdfs}
    seconds = TIME_LIMIT + TIME_PER_CARD * len(deck.notes)
    for part, layout in _lay_out_all(todo, deck.cards_dir.resolve(), seconds).items():
        pdfs[part] = _checked(layout, part[0], deck, seconds)
        if folder is not None:
            cache.put(folder, keys[part], pdfs[part])
    return {
        kind: _joined([pdf for part, pdf in sorted(pdfs.items()) if part[0] == kind], paper)
        for kind in kinds
    }


Part = tuple[str, int]  # which PDF ("pdf", "handout") and which part of it, from 0
_NAMES = {"pdf": "cheatsheet", "handout": "handout"}
PART_CARDS = 300  # cards in one part of the handout, at most (but for a longer section)


def _pages(deck: Deck, paper: str, printed: list[Section], kind: str) -> list[str]:
    """The HTML of each part of a PDF: the handout in parts of whole sections, the cheatsheet
    (whose columns run on from section to section) whole."""
    if kind == "pdf":
        return [build_html(deck, paper, _on_the_sheet(printed))]
    parts = _split(printed, PART_CARDS)
    return [
        build_html(deck, paper, part, handout=True, part=index, parts=len(parts))
        for index, part in enumerate(parts)
    ]


def _on_the_sheet(printed: list[Section]) -> list[Section]:
    """The sections as the cheatsheet prints them: without the cards marked `cheatsheet=no`."""
    kept = [Section(s.name, [e for e in s.entries if e.sheet]) for s in printed]
    return [section for section in kept if section.entries]


def _split(printed: list[Section], size: int) -> list[list[Section]]:
    """Group whole sections into parts of at most `size` entries (a longer one is cut up)."""
    parts: list[list[Section]] = [[]]
    for section in printed:
        chunks = [section.entries[i : i + size] for i in range(0, len(section.entries), size)]
        for chunk in chunks or [[]]:
            filled = sum(len(s.entries) for s in parts[-1])
            if parts[-1] and filled + len(chunk) > size:
                parts.append([])
            parts[-1].append(Section(section.name, chunk))
    return parts


def _joined(parts: list[bytes], paper: str) -> bytes:
    """One PDF of the parts, its pages numbered `n / total` as a single document's would be."""
    if len(parts) == 1:
        return parts[0]
    from pypdf import PdfReader, PdfWriter  # only for a handout long enough to come in parts

    writer = PdfWriter()
    for pdf in parts:
        writer.append(PdfReader(io.BytesIO(pdf)))
    numbers = _lay_out(_numbers_html(paper, len(writer.pages)), _fonts_dir(), TIME_LIMIT)
    if numbers.pdf is None:  # our own page of page numbers: a deckgen bug
        raise RuntimeError(f"cannot typeset the page numbers: {numbers.failures}")
    for page, number in zip(writer.pages, PdfReader(io.BytesIO(numbers.pdf)).pages, strict=True):
        page.merge_page(number)
        page.compress_content_streams()
    metadata = PdfReader(io.BytesIO(parts[0])).metadata
    if metadata:
        writer.add_metadata(dict(metadata))
    joined = io.BytesIO()
    writer.write(joined)
    return joined.getvalue()


def _numbers_html(paper: str, count: int) -> str:
    """Blank pages that carry only the page numbers, laid out by the handout's own page rules."""
    css = "\n".join([_font_faces(), read_template("cheatsheet.css")])
    pages = '<div style="break-after: page"></div>' * (count - 1) + "<div></div>"
    return f"<style>@page {{ size: {PAGE_SIZES[paper]}; }}\n{css}</style>{pages}"


def _cache_key(deck: Deck, page: str) -> str:
    return cache.key(
        __version__,
        _layout_source(),
        *(f"{name}={version(name)}" for name in _LAYOUT_PACKAGES),
        page,
        *(image.media_name for image in deck.images),
    )


@lru_cache(maxsize=1)
def _layout_source() -> bytes:
    """This module's source: how a page is laid out (fetcher, font dates) is in it."""
    return Path(__file__).read_bytes()


# What decides a PDF besides its HTML: the layout engine, its PDF writer and font subsetter, and
# Matplotlib, whose fonts the page uses.
_LAYOUT_PACKAGES = ("weasyprint", "pydyf", "fonttools", "tinycss2", "matplotlib")


@dataclass(frozen=True)
class Layout:
    """What typesetting one page gave: the PDF, or what WeasyPrint could not do."""

    pdf: bytes | None
    failures: list[str]
    expired: bool = False


def _lay_out_all(pages: dict[Part, str], cards_dir: Path, seconds: float) -> dict[Part, Layout]:
    """Typeset the pages: one here, several in worker processes (one per core), longest first.

    WeasyPrint lays out on one core and holds a page's whole layout in memory: a worker each
    shares the cores, and its memory goes when the pool ends."""
    if len(pages) < 2 or _cpus() < 2:
        return {part: _lay_out(page, cards_dir, seconds) for part, page in pages.items()}
    context = multiprocessing.get_context("spawn")  # our own child, even in a forked process
    layouts: dict[Part, Layout] = {}
    with ProcessPoolExecutor(min(_cpus(), len(pages)), mp_context=context) as pool:
        longest = sorted(pages, key=lambda part: -len(pages[part]))
        futures = {part: pool.submit(_lay_out, pages[part], cards_dir, seconds) for part in longest}
        for part, future in futures.items():
            try:
                layouts[part] = future.result()
            except BrokenProcessPool:  # killed (out of memory?): no PDF, so an error
                layouts[part] = Layout(None, ["the typesetting process died"])
    return {part: layouts[part] for part in pages}


def _cpus() -> int:
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        return os.cpu_count() or 1


def _lay_out(page: str, cards_dir: Path, seconds: float) -> Layout:
    """Typeset one page with WeasyPrint, which may read only the cards folder and our fonts."""
    from weasyprint import HTML  # slow to import: only when a PDF is wanted
    from weasyprint.urls import FatalURLFetchingError

    fetcher = _local_fetcher(cards_dir)
    failures = _Failures()
    weasyprint_log = logging.getLogger("weasyprint")
    weasyprint_log.addHandler(failures)
    weasyprint_log.propagate = False  # reported by the caller, as problems at their cards
    pdf = None
    try:
        with _fixed_font_dates(), time_limit(seconds) as clock:
            pdf = HTML(string=page, base_url=str(cards_dir), url_fetcher=fetcher).write_pdf()
    except FatalURLFetchingError:
        failures.messages.append(f"refused to open {fetcher.refused}")
    except Timeout:
        pass
    finally:
        weasyprint_log.removeHandler(failures)
        weasyprint_log.propagate = True
    return Layout(pdf, failures.messages, clock.expired)


def _checked(layout: Layout, kind: str, deck: Deck, seconds: float) -> bytes:
    """The PDF, or raise: WeasyPrint leaves out what it cannot load or draw (a smaller PDF)."""
    if layout.expired:
        raise DeckgenError(f"typesetting the {_NAMES[kind]} took longer than {seconds:.0f} s")
    raise_if_any([_failure(message, deck, _NAMES[kind]) for message in layout.failures])
    if layout.pdf is None:
        raise DeckgenError(f"typesetting the {_NAMES[kind]} failed")
    return layout.pdf


TIME_LIMIT, TIME_PER_CARD = 120.0, 1.0  # seconds; the shipped deck takes about 0.05 s a card


class _Failures(logging.Handler):
    """Collects what WeasyPrint could not load or draw (it logs it and goes on without it)."""

    def __init__(self) -> None:
        super().__init__(logging.ERROR)
        self.messages: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.messages.append(record.getMessage())


def _failure(message: str, deck: Deck, what: str) -> Problem:
    """Place a WeasyPrint failure at the card whose image it names, else at the cards folder."""
    where = next(
        (
            note.card.loc
            for note in deck.notes
            for image in note.images
            if image.source.as_uri() in message
        ),
        SourceLoc(deck.cards_dir, 0),
    )
    return Problem(where, f"the {what} cannot show this: {quote(message, 160)}")


def _local_fetcher(cards_dir: Path) -> Any:
    """A WeasyPrint URL fetcher that opens only data: URIs, files in the cards folder and the
    bundled fonts: an image can never make the PDF step read other files or the network."""
    from weasyprint.urls import URLFetcher

    allowed = [cards_dir, _fonts_dir().resolve()]

    class LocalFetcher(URLFetcher):  # type: ignore[misc]
        refused = ""

        def fetch(self, url: str, headers: Any = None) -> Any:
            parts = urlsplit(url)
            if parts.scheme == "data" or (
                parts.scheme == "file"
                and not parts.netloc
                and _inside(Path(unquote(parts.path)), allowed)
            ):
                return super().fetch(url, headers)
            self.refused = url
            raise ValueError(f"deckgen refuses to fetch {url[:100]}")

    return LocalFetcher(allowed_protocols=("data", "file"), fail_on_errors=True)


def _inside(path: Path, folders: list[Path]) -> bool:
    try:
        resolved = path.resolve(strict=True)
    except (OSError, RuntimeError, ValueError):
        return False
    return resolved.is_file() and any(resolved.is_relative_to(folder) for folder in folders)


@contextmanager
def _fixed_font_dates() -> Iterator[None]:
    """Keep the build time out of the PDF.

    Without HarfBuzz, WeasyPrint subsets fonts with fontTools, which stamps each subset with the
    current time unless SOURCE_DATE_EPOCH is set; a font's date means nothing in a cheatsheet.
    """
    saved = os.environ.get("SOURCE_DATE_EPOCH")
    os.environ["SOURCE_DATE_EPOCH"] = saved or "0"
    try:
        yield
    finally:
        if saved is None:
            del os.environ["SOURCE_DATE_EPOCH"]


HANDOUT_COLUMNS = 3


def build_html(
    deck: Deck,
    paper: str,
    printed: list[Section],
    *,
    handout: bool = False,
    part: int = 0,
    parts: int = 1,
) -> str:
    """Return the cheatsheet (or the handout, or part `part` of `parts` of it) as one HTML page.

    The cheatsheet shows each card's term and answer; the handout adds questions and notes. A part
    after the first has no masthead, and parts carry no page numbers (added when joined).
    """
    environment = jinja2.Environment(autoescape=True, undefined=jinja2.StrictUndefined)
    template = environment.from_string(read_template("cheatsheet.html.j2"))
    css = "\n".join([_font_faces(), read_template("cheatsheet.css"), code_css("", "default")])
    return template.render(
        title=deck.config.title,
        kind="handout" if handout else "cheatsheet",
        page_size=PAGE_SIZES[paper],
        columns=HANDOUT_COLUMNS if handout else deck.config.columns,
        css=css,
        sections=printed,
        part=part,
        parts=parts,
    )


def sections(deck: Deck, plot_svgs: Mapping[str, bytes]) -> list[Section]:
    """Group the deck's cards by deck, in order of first appearance."""
    grouped: dict[str, list[Entry]] = {name: [] for name in deck.sections}
    for note in deck.notes:
        grouped[note.card.deck].append(_entry(note, deck.cards_dir, plot_svgs))
    return [Section(name.replace("::", " \u203a "), entries) for name, entries in grouped.items()]


def _entry(note: Note, cards_dir: Path, plot_svgs: Mapping[str, bytes]) -> Entry:
    card = note.card
    cloze = card.kind == "cloze"
    front, back = card.front, card.back
    side = {
        "title": render(card.title, card.loc, cards_dir, "print"),
        "front": render(
            front.text, front.loc, cards_dir, "print", cloze=cloze, plot_svgs=plot_svgs
        ),
        "back": render(back.text, back.loc, cards_dir, "print", plot_svgs=plot_svgs),
        "notes": render(card.notes.text, card.notes.loc, cards_dir, "print", plot_svgs=plot_svgs),
    }
    return Entry(
        id=card.id or "",
        kind=card.kind,
        title=inline_html(side["title"].html),
        # A cloze card's text is its content; a question is shown only when it adds to the title.
        question="" if cloze else side["front"].html,
        answer=side["front"].html + side["back"].html if cloze else side["back"].html,
        notes=side["notes"].html,
        plots=len(note.plots),
        sheet=card.cheatsheet,
    )


@lru_cache(maxsize=1)
def _fonts_dir() -> Path:
    """Matplotlib's font folder, found without importing Matplotlib (most builds draw nothing)."""
    spec = find_spec("matplotlib")
    if spec is None or spec.origin is None:
        raise RuntimeError("Matplotlib is not installed")  # a dependency: deckgen is broken
    return Path(spec.origin).parent / "mpl-data" / "fonts" / "ttf"


def _font_faces() -> str:
    """Embed the STIX text faces (matching the STIX math) and DejaVu shipped with Matplotlib.

    Using fonts from a pinned dependency, not the system, makes the PDF look the same everywhere.
    """
    fonts = _fonts_dir()
    faces = [
        ("Deck Serif", "STIXGeneral.ttf", "normal", "normal"),
        ("Deck Serif", "STIXGeneralBol.ttf", "bold", "normal"),
        ("Deck Serif", "STIXGeneralItalic.ttf", "normal", "italic"),
        ("Deck Serif", "STIXGeneralBolIta.ttf", "bold", "italic"),
        ("Deck Sans", "DejaVuSans.ttf", "normal", "normal"),
        ("Deck Sans", "DejaVuSans-Bold.ttf", "bold", "normal"),
        # the name Matplotlib writes into plot SVGs: their text is laid out with this file too
        ("DejaVu Sans", "DejaVuSans.ttf", "normal", "normal"),
        ("Deck Mono", "DejaVuSansMono.ttf", "normal", "normal"),
        ("Deck Mono", "DejaVuSansMono-Bold.ttf", "bold", "normal"),
    ]
    return "\n".join(
        f'@font-face {{ font-family: "{family}"; src: url("{(fonts / file).as_uri()}"); '
        f"font-weight: {weight}; font-style: {style}; }}"
        for family, file, weight, style in faces
    )
