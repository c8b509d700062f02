"""Images a card shows: a file inside the cards folder, checked to be the image its name says.

An SVG is a document that can point elsewhere (`file:///`, `http://`): the PDF step would embed
or fetch what it points to. So an SVG may only use what it holds itself.
"""

from __future__ import annotations

import hashlib
import io
import re
import stat
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from urllib.parse import unquote, urlsplit
from xml.etree import ElementTree

from deckgen.errors import quote

MAX_IMAGE = 10 * 1024 * 1024  # bytes
MAX_PIXELS = 25_000_000  # decoded, 100 MB of memory; a 10 MiB PNG can hold gigabytes of pixels
# File signatures: what the first bytes of each kind must be.
_MAGIC: dict[str, tuple[bytes, ...]] = {
    ".png": (b"\x89PNG\r\n\x1a\n",),
    ".jpg": (b"\xff\xd8\xff",),
    ".jpeg": (b"\xff\xd8\xff",),
    ".gif": (b"GIF87a", b"GIF89a"),
    ".webp": (b"RIFF",),
}
SUFFIXES = (*_MAGIC, ".svg")
# Markup declarations (entities, default attributes) and style sheets are never needed in an
# image and can bring in anything: refused before parsing.
_SVG_DECLARATIONS = re.compile(rb"<!(?!--|\[CDATA\[|DOCTYPE[^\[>]*>)|<\?xml-stylesheet", re.I)
_SVG_ACTIVE = {"script", "foreignObject", "handler", "listener"}
_SELF_CONTAINED = "an SVG must hold all it shows (raster images as data: URIs, no SVG in SVG)"
_RASTER_DATA = re.compile(r"data:image/(?:png|jpeg|gif|webp)[;,]", re.I)
MAX_SVG_DEPTH = 64
MAX_SVG_ELEMENTS = 200_000  # drawn, copies included; a histogram plot draws a few thousand
MAX_SVG_TEXT = 100_000  # characters
_STYLE_MARKER = re.compile(r"marker[\w-]*\s*:\s*url\(\s*['\"]?(#[^)'\"]+)", re.I)
_CSS_ESCAPE = re.compile(r"\\([0-9a-fA-F]{1,6})\s?|\\(.)", re.DOTALL)
_CSS_COMMENT = re.compile(r"/\*.*?\*/", re.DOTALL)
# A CSS reference to something other than a fragment of the image or inline data.
_CSS_OUTSIDE = re.compile(
    r"@import|@font-face|image-set"
    r"|(?:url|src|image)\(\s*['\"]?\s*(?![#'\")]|data:image/(?:png|jpeg|gif|webp)[;,])",
    re.I,
)


class ImageError(ValueError):
    """Why an image cannot be used; the message follows the image's name."""


@dataclass(frozen=True)
class Image:
    """An image a card shows, and the name it has inside the Anki package."""

    source: Path
    digest: str

    @property
    def media_name(self) -> str:
        return f"deckgen-{self.digest[:16]}{self.source.suffix.lower()}"


def read(src: str, folder: Path, cards_dir: Path) -> Image:
    """Check the image `src` of a card in `folder` and return it; raise ImageError if unusable."""
    path = _resolve(src, folder, cards_dir)
    try:
        status = path.stat()
    except FileNotFoundError:
        raise ImageError("not found") from None
    except OSError as err:
        raise ImageError(f"cannot be read: {err.strerror}") from None
    if not stat.S_ISREG(status.st_mode):
        raise ImageError("is not a file")
    return _checked(path, (status.st_ino, status.st_size, status.st_mtime_ns))


@lru_cache(maxsize=256)
def _checked(path: Path, _version: tuple[int, int, int]) -> Image:
    """Read and check an image once per build (each card side is rendered for Anki and print)."""
    try:
        with path.open("rb") as file:
            data = file.read(MAX_IMAGE + 1)
    except OSError as err:
        raise ImageError(f"cannot be read: {err.strerror}") from None
    if len(data) > MAX_IMAGE:
        raise ImageError(f"is larger than {MAX_IMAGE // 1024 // 1024} MiB")
    check_content(data, path.suffix.lower())
    return Image(path, hashlib.sha256(data).hexdigest())


def _resolve(src: str, folder: Path, cards_dir: Path) -> Path:
    if urlsplit(src).scheme or src.startswith("/"):
        raise ImageError("must be a file path relative to the card file")
    name = unquote(src)
    if "\0" in name or not name:
        raise ImageError("is not a file name")
    try:
        path = (folder / name).resolve(strict=False)
    except (OSError, RuntimeError) as err:  # a symlink loop (RuntimeError before Python 3.13)
        raise ImageError(f"cannot be resolved: {err}") from None
    if not path.is_relative_to(cards_dir.resolve()):
        raise ImageError("is outside the cards folder")
    if path.suffix.lower() not in SUFFIXES:
        raise ImageError(f"is not one of {', '.join(SUFFIXES)}")
    return path


def check_content(data: bytes, suffix: str) -> None:
    """Raise ImageError unless the bytes are an image of the kind the suffix names."""
    if suffix == ".svg":
        _check_svg(data)
        return
    if not data.startswith(_MAGIC[suffix]) or (suffix == ".webp" and data[8:12] != b"WEBP"):
        raise ImageError(f"is not a {suffix[1:].upper()} image")
    _check_raster(data, suffix)


def _check_svg(data: bytes) -> None:
    """An SVG must be well-formed XML that refers to nothing outside itself, runs nothing, and
    stays within what the PDF step can draw: bounded nesting, no `<use>` of a `<use>`."""
    if _SVG_DECLARATIONS.search(data):
        raise ImageError("declares entities, attributes or a style sheet: not allowed in an SVG")
    depth, count, root = 0, 0, None
    try:
        for event, element in ElementTree.iterparse(io.BytesIO(data), events=("start", "end")):
            if event == "end":
                depth -= 1
                if _local(element.tag) == "style":
                    _check_style_sheet(element.text or "")
                continue
            depth, count, root = depth + 1, count + 1, root if root is not None else element
            if depth > MAX_SVG_DEPTH or count > MAX_SVG_ELEMENTS:
                raise ImageError("nests too deeply or holds too many elements to be drawn")
            _check_element(element)
    except ElementTree.ParseError as err:
        raise ImageError(f"is not a well-formed SVG image ({err})") from None
    if root is None or _local(root.tag) != "svg":
        raise ImageError("is not an SVG image")
    _check_uses(root)


def _check_style_sheet(css: str) -> None:
    if _css_refers_outside(css):
        raise ImageError(f"refers to files or addresses outside itself: {_SELF_CONTAINED}")
    if "marker" in css.lower():  # markers must be attributes, where their cost can be counted
        raise ImageError("sets markers in a style sheet: give them as attributes")


def _check_element(element: ElementTree.Element) -> None:
    tag = _local(element.tag)
    if tag in _SVG_ACTIVE:
        raise ImageError(f"holds a <{tag}> element: not allowed in an SVG")
    for name, value in element.attrib.items():
        problem = _attribute_problem(_local(name), value)
        if problem:
            raise ImageError(problem)


def _check_uses(root: ElementTree.Element) -> None:
    """Bound the work of drawing: a `<use>` may show an element that holds no `<use>` (no
    cycles, no copies of copies), and copies, markers and text add up to a limit."""
    by_id = {element.get("id"): element for element in root.iter() if element.get("id")}
    sizes: dict[str, int] = {}  # elements drawn for one copy of each referenced element

    def size(reference: str) -> int:
        name = reference.strip().removeprefix("url(").removeprefix("#").rstrip(")").strip()
        if name not in sizes:
            target = by_id.get(name)
            inside = list(target.iter()) if target is not None else []
            if any(_local(e.tag) == "use" for e in inside):
                raise ImageError("has a <use> of an element that holds a <use>: not allowed")
            sizes[name] = len(inside)
        return sizes[name]

    work, text = 0, 0
    for element in root.iter():
        work += 1
        text += len(element.text or "") + len(element.tail or "")
        for name, value in element.attrib.items():
            if _local(name) == "href" and _local(element.tag) == "use":
                work += size(value)
            elif _local(name).startswith("marker-") and "#" in value:
                work += size(value[value.index("#") :]) * _vertices(element)
            elif _local(name) == "style":
                for marker in _STYLE_MARKER.findall(value):
                    work += size(marker) * _vertices(element)
    if work > MAX_SVG_ELEMENTS or text > MAX_SVG_TEXT:
        raise ImageError("would take too long to draw: too many copies, markers or letters")


def _vertices(element: ElementTree.Element) -> int:
    """About how many points a path, line or polygon has: where markers are drawn."""
    numbers = re.findall(r"-?[\d.]+", element.get("d", "") + " " + element.get("points", ""))
    return max(len(numbers) // 2, 2)


def _local(name: str) -> str:
    """An XML name without its namespace."""
    return name.rsplit("}", 1)[-1]


def _attribute_problem(name: str, value: str) -> str | None:
    if name.lower().startswith("on"):
        return f"has an event handler ({quote(name)}): not allowed in an SVG"
    if name == "base":  # xml:base makes even `#id` point elsewhere
        return "sets xml:base: not allowed in an SVG"
    reference = value.strip()
    if name in ("href", "src") and not (reference.startswith("#") or _RASTER_DATA.match(reference)):
        return f"refers to '{quote(reference)}': {_SELF_CONTAINED}"
    if _css_refers_outside(value):
        return f"refers to files or addresses outside itself: {_SELF_CONTAINED}"
    return None


def _css_character(escape: re.Match[str]) -> str:
    if escape[2] is not None:
        return escape[2]
    code = int(escape[1], 16)
    return chr(code) if 0 < code <= 0x10FFFF else "\ufffd"  # as CSS reads an escape


def _css_refers_outside(css: str) -> bool:
    """Whether CSS (a style sheet or a property value) refers to anything outside the image."""
    plain = _CSS_ESCAPE.sub(_css_character, css)
    plain = _CSS_COMMENT.sub("", plain)
    return bool(_CSS_OUTSIDE.search(plain))


def _check_raster(data: bytes, suffix: str) -> None:
    """Read the image's size and check its data, as the PDF step and Anki will decode it."""
    from PIL import Image as Picture  # Pillow: WeasyPrint's and Matplotlib's image library

    kind = suffix[1:].upper()
    try:
        with Picture.open(io.BytesIO(data)) as picture:
            width, height = picture.size
            if width * height <= MAX_PIXELS:
                picture.verify()
    except Picture.DecompressionBombError:
        width = height = MAX_PIXELS  # far too many pixels: reported below
    # Pillow raises many kinds of exception for damaged data; each means the same here.
    except Exception as err:
        raise ImageError(f"is a damaged {kind} image ({quote(str(err), 80)})") from None
    if width * height > MAX_PIXELS:
        raise ImageError(f"has too many pixels (at most {MAX_PIXELS // 10**6} million)")


def is_self_contained_svg(data: bytes) -> bool:
    """Whether an SVG (a cached plot, say) holds nothing that points outside it."""
    try:
        check_content(data, ".svg")
    except ImageError:
        return False
    return True
