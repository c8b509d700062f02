"""The preview of `deckgen watch`: every card as Anki will show it, served on 127.0.0.1.

The cards are read from the built .apkg, so the preview shows what Anki imports: the note types'
templates rendered as Anki renders them (the part of Anki's template language deckgen's note types
use, and Anki's cloze markup), shown in a copy of Anki's reviewer page with Anki's MathJax.
Card files are untrusted. The server answers fixed routes only: a URL never names a file (media
come from the package's media map, the PDFs from the build's outputs, MathJax and the page's
files from deckgen's own package data); every answer carries a Content-Security-Policy that lets
no card run a script or fetch from anywhere else; a request for another host name is refused, so
a web page cannot reach the preview by pointing its own domain at 127.0.0.1 (DNS rebinding).
"""

from __future__ import annotations

import contextlib
import errno
import hashlib
import html
import json
import logging
import mimetypes
import re
import secrets
import sqlite3
import sys
import tempfile
import threading
import time
import zipfile
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field, replace
from functools import cache
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from importlib.resources import files
from pathlib import Path
from typing import Any, cast
from urllib.parse import unquote, urlsplit

import jinja2

from deckgen.errors import DeckgenError, Problem, SourceLoc

log = logging.getLogger(__name__)

HOST = "127.0.0.1"


class PreviewError(DeckgenError):
    """The preview cannot be served (its port is taken)."""


class TemplateError(ValueError):
    """A card template uses what the preview does not render."""


# Templates: the subset of Anki's template language (rslib/src/template.rs) that deckgen's note
# types use: {{Field}}, {{cloze:Field}}, {{FrontSide}}, {{#Field}}...{{/Field}} and {{^Field}}.


@dataclass(frozen=True)
class _Field:
    key: str
    filters: tuple[str, ...]  # in the order they apply


@dataclass(frozen=True)
class _Section:
    key: str
    negated: bool  # {{^Field}}: shown when the field is empty
    children: tuple[_Node, ...]


_Node = str | _Field | _Section

_HANDLE = re.compile(r"\{\{((?:(?!\{\{|\}\}).)+)\}\}", re.DOTALL)
# Anki's test for an empty field: nothing but whitespace and empty <br> or <div> tags.
_EMPTY_FIELD = re.compile(r"(?:[ \t\n\v\f\r]|</?(?:br|div) ?/?>)*", re.IGNORECASE)


def parse_template(template: str) -> tuple[_Node, ...]:
    """Parse a card template into text, field replacements and conditional sections."""
    stack: list[tuple[str, bool, list[_Node]]] = [("", False, [])]
    start = 0
    for match in _HANDLE.finditer(template):
        stack[-1][2].append(template[start : match.start()])
        start = match.end()
        handle = match[1].strip()
        if len(handle) > 1 and handle[0] in "#^":
            stack.append((handle[1:].lstrip(), handle[0] == "^", []))
        elif len(handle) > 1 and handle[0] == "/":
            if len(stack) == 1 or stack[-1][0] != handle[1:].lstrip():
                raise TemplateError(f"unbalanced {{{{{handle}}}}}")
            key, negated, children = stack.pop()
            stack[-1][2].append(_Section(key, negated, tuple(children)))
        else:
            key, *filters = reversed(handle.split(":"))  # {{outer:inner:Field}}
            stack[-1][2].append(_Field(key, tuple(filters)))
    if len(stack) > 1:
        raise TemplateError(f"{{{{#{stack[-1][0]}}}}} is never closed")
    return (*stack[0][2], template[start:])


@dataclass(frozen=True)
class _Context:
    fields: dict[str, str]
    nonempty: frozenset[str]
    cloze: int  # the card's deletion number (its ord + 1)
    front_side: str | None = None  # the rendered question, while the answer is rendered


def _render(nodes: tuple[_Node, ...], context: _Context) -> str:
    return "".join(_render_node(node, context) for node in nodes)


def _render_node(node: _Node, context: _Context) -> str:
    if isinstance(node, str):
        return node
    if isinstance(node, _Field) and node.key == "FrontSide":
        return context.front_side or ""
    if node.key not in context.fields:
        raise TemplateError(f"the note type has no field '{node.key}'")
    if isinstance(node, _Section):
        shown = (node.key in context.nonempty) != node.negated
        return _render(node.children, context) if shown else ""
    text = context.fields[node.key]
    for name in node.filters:
        if name != "cloze":
            raise TemplateError(f"the preview does not apply the filter '{name}:'")
        question = context.front_side is None
        text = _strip_html_in_math(reveal_clozes(text, context.cloze, question))
    return text


def render_sides(note_type: dict[str, Any], fields: list[str], ord: int) -> tuple[str, str]:
    """Return a card's question and answer HTML as Anki renders them (without the <style>)."""
    names = [f["name"] for f in sorted(note_type["flds"], key=lambda f: int(f["ord"]))]
    values = dict(zip(names, fields, strict=True))  # Anki refuses a note with other fields
    nonempty = frozenset(name for name, text in values.items() if not _is_empty(text))
    cloze = note_type["type"] == 1  # one template, a card per deletion number
    [template] = [t for t in note_type["tmpls"] if t["ord"] == (0 if cloze else ord)]
    context = _Context(values, nonempty, ord + 1)
    question = _render(parse_template(template["qfmt"]), context)
    answer = _render(parse_template(template["afmt"]), replace(context, front_side=question))
    return question, answer


def _is_empty(text: str) -> bool:
    return _EMPTY_FIELD.fullmatch(text) is not None


# Clozes: Anki's markup of the {{cloze:Field}} filter (rslib/src/cloze.rs), nested deletions too.


@dataclass
class _Cloze:
    """One deletion {{cN::text::hint}} and the deletions nested in it, while it is parsed."""

    ordinal: int
    nodes: list[str | _Cloze] = field(default_factory=list)
    hint: str | None = None


_CLOZE_MARK = re.compile(r"\{\{c([0-9]+)::|\}\}")
_MAX_OPEN = 10  # Anki ignores a deletion opened inside ten others
_MATH = re.compile(r"(\\[(\[])(.*?)(\\[\])])", re.DOTALL)
_TAG = re.compile(
    r"<!--.*?-->|<style.*?>.*?</style>|<script.*?>.*?</script>|<.*?>", re.DOTALL | re.IGNORECASE
)
_ENTITIES = {"&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;"}


def reveal_clozes(text: str, number: int, question: bool) -> str:
    """Render a cloze field for the card of deletion `number`; empty if it has none."""
    found = False

    def shown(node: str | _Cloze) -> str:
        nonlocal found
        if isinstance(node, str):
            return node
        active = node.ordinal == number
        found = found or active
        inner = "".join(map(shown, node.nodes))
        if active and question:
            hint = "..." if node.hint is None else node.hint
            data = f'data-cloze="{_attribute(inner)}" data-ordinal="{node.ordinal}"'
            return f'<span class="cloze" {data}>[{hint}]</span>'
        kind = "cloze" if active else "cloze-inactive"
        return f'<span class="{kind}" data-ordinal="{node.ordinal}">{inner}</span>'

    revealed = "".join(map(shown, _parse_clozes(text)))
    return revealed if found else ""


def _parse_clozes(text: str) -> list[str | _Cloze]:
    top: list[str | _Cloze] = []
    opened: list[_Cloze] = []
    for token in _cloze_tokens(text):
        if isinstance(token, int):
            if len(opened) < _MAX_OPEN:
                opened.append(_Cloze(token))
        elif token is None and opened:
            closed = opened.pop()
            (opened[-1].nodes if opened else top).append(closed)
        elif token is None:
            top.append("}}")
        elif opened:
            text_part, colons, hint = token.partition("::")
            if colons:
                opened[-1].hint = hint
            opened[-1].nodes.append(text_part)
        else:
            top.append(token)
    return top  # a deletion never closed is dropped, as Anki drops it


def _cloze_tokens(text: str) -> Iterator[str | int | None]:
    """Split text as Anki does: text, {{cN:: (as the number N) and }} (as None)."""
    start = search = 0
    while match := _CLOZE_MARK.search(text, search):
        if match[1] is not None and int(match[1]) > 0xFFFF:  # too big for Anki: plain text
            search = match.start() + 1
            continue
        if match.start() > start:
            yield text[start : match.start()]
        yield None if match[1] is None else int(match[1])
        start = search = match.end()
    if start < len(text):
        yield text[start:]


def _attribute(text: str) -> str:
    """Escape an attribute value as Anki does (htmlescape's encode_attribute)."""
    return "".join(
        char
        if (char.isascii() and char.isalnum()) or ord(char) > 0xFF
        else _ENTITIES.get(char, f"&#x{ord(char):02X};")
        for char in text
    )


def _strip_html_in_math(text: str) -> str:
    """Remove tags inside \\(..\\) and \\[..\\], where a cloze's <span> would break the TeX."""
    return _MATH.sub(lambda m: m[1] + _TAG.sub("", m[2]) + m[3], text)


# The package: what the preview shows of a built .apkg.


@dataclass(frozen=True)
class Card:
    """One Anki card of the package, both sides rendered as Anki renders them."""

    key: str  # the same card in the next build: from its note's GUID and its number
    guid: str  # its note's
    deck: str
    title: str  # the note's sort field (deckgen's Title) as plain text
    label: str  # "" for a note's only card, else its template's name or "Cloze N"
    ord: int
    style: str  # its note type's id, whose CSS is in Package.styles
    question: str
    answer: str


@dataclass(frozen=True)
class Package:
    """The cards of a package in its order, its note types' CSS, and its media files."""

    cards: tuple[Card, ...]
    styles: dict[str, str]
    media: dict[str, bytes]  # by the name the cards use


def read_apkg(path: Path) -> Package:
    """Read a package as Anki imports it: note types, notes, cards in order, media."""
    with zipfile.ZipFile(path) as apkg:
        names: dict[str, str] = json.loads(apkg.read("media"))
        media = {name: apkg.read(member) for member, name in names.items()}
        database = apkg.read("collection.anki2")
    with _collection(database) as db:
        models_json, decks_json = db.execute("SELECT models, decks FROM col").fetchone()
        models: dict[str, Any] = json.loads(models_json)
        decks = {str(deck["id"]): deck["name"] for deck in json.loads(decks_json).values()}
        notes = {
            nid: (guid, models[str(mid)], flds.split("\x1f"))
            for nid, guid, mid, flds in db.execute("SELECT id, guid, mid, flds FROM notes")
        }
        rows = db.execute("SELECT nid, did, ord FROM cards ORDER BY id").fetchall()
    cards = tuple(_card(*notes[nid], decks[str(did)], ord) for nid, did, ord in rows)
    return Package(cards, {mid: model["css"] for mid, model in models.items()}, media)


@contextlib.contextmanager
def _collection(database: bytes) -> Iterator[sqlite3.Connection]:
    """Open a collection's bytes (sqlite3 reads only files before Python 3.11)."""
    with tempfile.TemporaryDirectory(prefix="deckgen-preview-") as folder:
        path = Path(folder) / "collection.anki2"
        path.write_bytes(database)
        with contextlib.closing(sqlite3.connect(path)) as db:
            yield db


def _card(guid: str, note_type: dict[str, Any], fields: list[str], deck: str, ord: int) -> Card:
    question, answer = render_sides(note_type, fields, ord)
    if note_type["type"] == 1:
        label = f"Cloze {ord + 1}"
    elif len(note_type["tmpls"]) > 1:
        label = next(t["name"] for t in note_type["tmpls"] if t["ord"] == ord)
    else:
        label = ""
    key = f"{hashlib.sha256(guid.encode()).hexdigest()[:12]}-{ord + 1}"
    title = html.unescape(_TAG.sub("", fields[note_type["sortf"]])).strip()
    return Card(key, guid, deck, title, label, ord, str(note_type["id"]), question, answer)


def changed_cards(before: Package | None, after: Package) -> tuple[str, ...]:
    """Return the keys of the cards a build added or changed (none after the first build)."""
    if before is None:
        return ()
    old = {card.key: (card.question, card.answer) for card in before.cards}
    return tuple(c.key for c in after.cards if old.get(c.key) != (c.question, c.answer))


# The server.

# No inline script, nothing from elsewhere; MathJax writes inline styles, and plots may be data:.
_CSP = (
    "default-src 'self'; img-src 'self' data:; style-src 'self' 'unsafe-inline'; "
    "object-src 'none'; base-uri 'self'; form-action 'none'; frame-ancestors 'self'"
)
_TYPES = {
    ".html": "text/html; charset=utf-8",
    ".js": "text/javascript; charset=utf-8",
    ".css": "text/css; charset=utf-8",
    ".woff": "font/woff",
}
_PAGE_FILES = ("preview.js", "preview.css", "preview.reviewer.html", "preview.reviewer.js")
MATHJAX = Path(__file__).parent / "vendor" / "mathjax"


@dataclass(frozen=True)
class Response:
    """One answer of the server."""

    status: int
    body: bytes
    content_type: str = "text/plain; charset=utf-8"
    cache: str = "no-store"

    def headers(self) -> list[tuple[str, str]]:
        """Return its headers: type, length, caching and the security headers."""
        return [
            ("Content-Type", self.content_type),
            ("Content-Length", str(len(self.body))),
            ("Cache-Control", self.cache),
            ("Content-Security-Policy", _CSP),
            ("X-Content-Type-Options", "nosniff"),
            ("Cross-Origin-Resource-Policy", "same-origin"),
        ]


@dataclass(frozen=True)
class _State:
    """What the preview shows, replaced as a whole after every build."""

    version: str  # changes with every build: the page reloads when it does
    package: Package | None = None  # the last good build's; None before it, or with --only pdf
    built: bool = False  # a build has succeeded
    pdfs: dict[str, Path] = field(default_factory=dict)  # by file name
    error: str | None = None  # the last build's problems, if it failed
    changed: tuple[str, ...] = ()  # keys of the cards the last build changed
    when: str = ""  # the time of the last build


class Preview:
    """The preview server, serving from a daemon thread as soon as it is made; tell it of
    every build (`built`, `failed`), and `stop` it."""

    def __init__(self, port: int) -> None:
        self._session = secrets.token_hex(4)  # so a restarted watch's versions are new ones
        self._builds = 0
        self._lock = threading.Lock()
        self._state = _State(version=self._session)
        try:
            self._server = _Server((HOST, port), self)
        except OSError as err:
            raise PreviewError(_bind_problem(port, err)) from None
        self.port: int = self._server.server_address[1]
        self.url = f"http://{HOST}:{self.port}/"
        self._hosts = {f"{HOST}:{self.port}", f"localhost:{self.port}"}
        if self.port == 80:  # a browser leaves the default port out
            self._hosts |= {HOST, "localhost"}
        self._thread = threading.Thread(
            target=self._server.serve_forever, args=(0.1,), name="deckgen-preview", daemon=True
        )
        self._thread.start()

    def built(self, outputs: Iterable[Path]) -> None:
        """Show a good build: the cards of its .apkg (none if it made none), links to its PDFs."""
        outputs = list(outputs)
        apkgs = [path for path in outputs if path.suffix == ".apkg"]
        pdfs = {path.name: path for path in outputs if path.suffix == ".pdf"}
        try:
            package = read_apkg(apkgs[0]) if apkgs else None
        except (OSError, zipfile.BadZipFile, sqlite3.Error, ValueError, LookupError) as err:
            message = str(Problem(SourceLoc(apkgs[0], 0), f"the preview cannot read it: {err}"))
            log.warning("%s", message)
            self._update(error=message, changed=())
            return
        changed = changed_cards(self._state.package, package) if package else ()
        self._update(package=package, built=True, pdfs=pdfs, error=None, changed=changed)

    def failed(self, message: str) -> None:
        """Show a failed build's problems above the last good cards."""
        self._update(error=message, changed=())

    def stop(self) -> None:
        """Stop serving and close the port."""
        self._server.shutdown()
        self._server.server_close()
        self._thread.join()

    def _update(self, **changes: Any) -> None:
        with self._lock:
            self._builds += 1
            version = f"{self._session}-{self._builds}"
            when = time.strftime("%H:%M:%S")
            self._state = replace(self._state, version=version, when=when, **changes)

    def respond(self, host: str | None, path: str) -> Response:
        """Answer a GET of `path`: fixed routes, the package's media, the build's PDFs."""
        if host not in self._hosts:
            return Response(403, b"the preview answers only to 127.0.0.1 and localhost\n")
        state = self._state
        if path == "/":
            return Response(200, _page(state).encode(), _TYPES[".html"])
        if path == "/version":
            version = json.dumps({"version": state.version}).encode()
            return Response(200, version, "application/json")
        if path in _assets():
            return _assets()[path]
        folder, _, quoted = path.removeprefix("/").partition("/")
        name = unquote(quoted)  # a key of a dict below, never a path
        media = state.package.media if state.package is not None else {}
        if folder == "media" and name in media:
            kind = mimetypes.guess_type(name)[0] or "application/octet-stream"
            return Response(200, media[name], kind)
        if folder == "pdf" and name in state.pdfs:
            with contextlib.suppress(OSError):  # gone since the build: not found
                return Response(200, state.pdfs[name].read_bytes(), "application/pdf")
        return Response(404, b"not found\n")


def _bind_problem(port: int, err: OSError) -> str:
    if err.errno == errno.EADDRINUSE:
        return (
            f"port {port} on {HOST} is taken (another deckgen watch?): "
            "choose another with --port N, or run with --no-preview"
        )
    return f"cannot serve the preview on {HOST}:{port}: {err.strerror or err}"


@cache
def _assets() -> dict[str, Response]:
    """Every file the pages load, by route: the page's scripts and styles, and MathJax."""
    templates = files("deckgen.templates")
    found = {
        f"/{name}": Response(200, templates.joinpath(name).read_bytes(), _type(name), "no-cache")
        for name in _PAGE_FILES
    }
    for path in sorted(MATHJAX.rglob("*")):
        if path.suffix in (".js", ".woff"):
            route = f"/mathjax/{path.relative_to(MATHJAX).as_posix()}"
            found[route] = Response(200, path.read_bytes(), _type(path.name), "max-age=86400")
    return found


def _type(name: str) -> str:
    return _TYPES[Path(name).suffix]


@cache
def _page_template() -> jinja2.Template:
    environment = jinja2.Environment(autoescape=True, undefined=jinja2.StrictUndefined)
    text = files("deckgen.templates").joinpath("preview.html.j2").read_text(encoding="utf-8")
    return environment.from_string(text)


def _page(state: _State) -> str:
    """Return the page: the cards by deck, the last build's problems, and the cards' data."""
    cards = state.package.cards if state.package else ()
    top = cards[0].deck.split("::")[0] if cards else "deckgen"
    decks: dict[str, list[Card]] = {}
    for card in cards:
        name = card.deck.removeprefix(f"{top}::") if card.deck != top else top
        decks.setdefault(name.replace("::", " \u203a "), []).append(card)
    data = {
        "version": state.version,
        "changed": state.changed,
        "order": [card.key for card in cards],
        "styles": state.package.styles if state.package else {},
        "cards": {card.key: _card_data(card) for card in cards},
    }
    return _page_template().render(
        title=top,
        decks=decks,
        changed=set(state.changed),
        error=state.error,
        built=state.built,
        has_package=state.package is not None,
        pdfs=list(state.pdfs),  # in the build's order: the cheatsheet, then the handout
        when=state.when,
        data=data,
    )


def _card_data(card: Card) -> dict[str, Any]:
    label = f"{card.title} \u00b7 {card.label}" if card.label else card.title
    return {
        "front": card.question,
        "back": card.answer,
        "ord": card.ord,
        "style": card.style,
        "label": label,
    }


class _Server(ThreadingHTTPServer):
    daemon_threads = True  # a browser holding a connection open never delays Ctrl-C

    def __init__(self, address: tuple[str, int], preview: Preview) -> None:
        super().__init__(address, _Handler)
        self.preview = preview

    def handle_error(self, request: Any, client_address: Any) -> None:
        if isinstance(sys.exc_info()[1], ConnectionError):
            return  # the browser left before the answer was sent (a reload): nothing is wrong
        super().handle_error(request, client_address)


class _Handler(BaseHTTPRequestHandler):
    # http.server's own answers (a POST, a malformed request) in plain text, not an HTML page
    error_content_type = "text/plain; charset=utf-8"
    error_message_format = "%(code)d %(message)s\n"

    def do_GET(self) -> None:
        self._answer(with_body=True)

    def do_HEAD(self) -> None:
        self._answer(with_body=False)

    def _answer(self, with_body: bool) -> None:
        preview = cast(_Server, self.server).preview
        response = preview.respond(self.headers.get("Host"), urlsplit(self.path).path)
        self.send_response(response.status)
        for name, value in response.headers():
            self.send_header(name, value)
        self.end_headers()
        if with_body:
            self.wfile.write(response.body)

    def log_message(self, format: str, *args: Any) -> None:
        """Print nothing per request: the terminal is for the builds."""
