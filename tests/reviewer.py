"""Show the shipped deck's cards as Anki's reviewer does: headless Chromium, MathJax 3.2.2.

The facts matched (page classes, base CSS, MathJax configuration) are Anki's, listed in the
project notes "How Anki shows a card". The question and answer HTML come from a real Anki
collection (the official `anki` package), so templates, fields and cloze sides are Anki's own.
Used by tests/test_browser.py and benchmarks/screenshots.py.
"""

from __future__ import annotations

import asyncio
import json
import mimetypes
import re
import shutil
import subprocess
import sys
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import genanki
import yaml

REPO = Path(__file__).resolve().parents[1]
CARDS = REPO / "cards"
MATHJAX = REPO / "node_modules" / "mathjax" / "es5" / "tex-chtml-full.js"
WIDTHS = (380, 900)
MODES = ("light", "night")
# The page's address: every request under it is answered from disk, any other is refused, so a
# card that would fetch something from the network shows up as a problem.
ORIGIN = "http://anki.test/"

INSTALL_HELP = """\
The browser test renders cards in headless Chromium with MathJax 3.2.2, both installed by .ci/run:
  apt-get install -y chromium nodejs npm    # Debian's Chromium, driven by Playwright
  npm ci                                    # MathJax 3.2.2 into node_modules/ (repo root)
  .venv/bin/pip install -e '.[test]'        # Playwright (its own browser download is not used)"""


@dataclass(frozen=True)
class Side:
    """One side of one Anki card, as the reviewer puts it into `#qa`."""

    card: str  # the deckgen card id, then `/2` for a reversed card's second card, `/c3` for a cloze
    side: str  # "front" or "back"
    ord: int  # the card's template (or cloze) number, from 0: the body class is card{ord+1}
    html: str  # the note type's <style> and the rendered template, exactly as Anki gives them


@dataclass(frozen=True)
class View:
    """A viewport width and a colour mode."""

    width: int
    mode: str

    def __str__(self) -> str:
        return f"{self.width} px {self.mode}"


VIEWS = tuple(View(width, mode) for mode in MODES for width in WIDTHS)


def chromium_path() -> Path | None:
    """Return Debian's Chromium (the launcher script, which adds /etc/chromium.d flags)."""
    found = shutil.which("chromium") or shutil.which("chromium-browser")
    return Path(found) if found else None


def missing_tools() -> list[str]:
    """Return what the browser test needs and does not find, each with its place."""
    missing = []
    if chromium_path() is None:
        missing.append("Chromium: no `chromium` on PATH")
    if not MATHJAX.is_file():
        missing.append(f"MathJax 3.2.2: no {MATHJAX}")
    else:
        version = json.loads((MATHJAX.parents[1] / "package.json").read_text())["version"]
        if version != "3.2.2":
            missing.append(f"MathJax 3.2.2: node_modules/ holds MathJax {version}")
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        missing.append("Playwright: the Python package `playwright` is not installed")
    return missing


def build_shipped_deck(root: Path) -> Path:
    """Build a copy of `cards/` in `root` (a build writes ids and the lock); return the .apkg."""
    shutil.copytree(CARDS, root / "cards")
    cache = REPO / "build" / ".cache"
    if cache.is_dir():  # plots and verified claims, cached by content hash: a faster build
        shutil.copytree(cache, root / "build" / ".cache")
    command = [sys.executable, "-m", "deckgen", "build", "--only", "apkg", "--out", "build"]
    result = subprocess.run(command, cwd=root, capture_output=True, text=True)
    if result.returncode != 0:
        raise RuntimeError(f"deckgen build of the shipped deck failed:\n{result.stderr}")
    [apkg] = (root / "build").glob("*.apkg")
    return apkg


def card_ids(cards: Path) -> dict[str, str]:
    """Return card id by note GUID, for the card ids written in the headings of `cards`."""
    deck_id = yaml.safe_load((cards / "deck.yaml").read_text(encoding="utf-8"))["id"]
    heading = re.compile(r"^##[^#].*\{[^}]*#([A-Za-z0-9_-]+)", re.MULTILINE)
    ids = (m for md in sorted(cards.rglob("*.md")) for m in heading.findall(md.read_text("utf-8")))
    return {genanki.guid_for(deck_id, card_id): card_id for card_id in ids}


def card_sides(col: Any, ids: dict[str, str]) -> list[Side]:
    """Return the front and back of every card in the collection, rendered by Anki."""
    sides = []
    for card in sorted((col.get_card(c) for c in col.find_cards("")), key=lambda c: c.id):
        note = card.note()
        name = ids.get(note.guid, f"guid:{note.guid}")
        if note.note_type()["type"] == 1:  # cloze: one card per deletion number
            name += f"/c{card.ord + 1}"
        elif len(note.note_type()["tmpls"]) > 1:
            name += f"/{card.ord + 1}"
        # the reviewer escapes media file names before it shows a side (prepare_card_text...)
        escape = col.media.escape_media_filenames
        sides.append(Side(name, "front", card.ord, escape(card.question())))
        sides.append(Side(name, "back", card.ord, escape(card.answer())))
    return sides


def anki_sides(apkg: Path, workdir: Path, cards: Path = CARDS) -> tuple[list[Side], Path]:
    """Import `apkg` into a new Anki collection in `workdir`; return every side and the media."""
    from anki.collection import Collection
    from conftest import import_apkg

    workdir.mkdir(parents=True, exist_ok=True)
    col = Collection(str(workdir / "collection.anki2"))
    try:
        import_apkg(col, apkg)
        return card_sides(col, card_ids(cards)), Path(col.media.dir())
    finally:
        col.close()


# Anki's configuration (ts/mathjax/index.ts), then its reviewer's typesetting of each side.
MATHJAX_CONFIG = {
    "tex": {
        "inlineMath": [["\\(", "\\)"]],
        "displayMath": [["\\[", "\\]"]],
        "processEscapes": False,
        "processEnvironments": False,
        "processRefs": False,
        "packages": {"[+]": ["noerrors", "mathtools"], "[-]": ["textmacros"]},
    },
    "loader": {"load": ["[tex]/noerrors", "[tex]/mathtools"]},
    "startup": {"typeset": False},
}

# Anki's own CSS that reaches a card (qt/aqt/data/web, sass): before the note type's.
BASE_CSS = """
* { box-sizing: content-box; }
html { background: #f5f5f5; color: #020202; }
html.night-mode { background: #2c2c2c; color: #fcfcfc; }
body { margin: 20px; overflow-wrap: break-word; }
hr { background-color: #737373; height: 1px; border: none; }
img { max-width: 100%; max-height: 95vh; }
"""


def page_html(mode: str) -> str:
    """Return the reviewer page for one mode; sides are shown in its `#qa` by `show`."""
    night = mode == "night"
    html_class = ' class="night-mode"' if night else ""
    return f"""<!doctype html>
<html{html_class}><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<style>{BASE_CSS}</style>
<script>window.MathJax = {json.dumps(MATHJAX_CONFIG)};</script>
<script src="{ORIGIN}_anki/mathjax/tex-chtml-full.js"></script>
</head><body class="card card1{" nightMode night_mode" if night else ""}"><div id="qa"></div>
</body></html>"""


# Shows a side as Anki's reviewer does (_updateQA: innerHTML, typesetClear, typesetPromise on #qa),
# waits for its images, then reports what a reader would see wrong.
SHOW_AND_INSPECT = r"""
async ([html, bodyClass, night, front]) => {
  document.body.className = bodyClass;
  const qa = document.getElementById("qa");
  qa.innerHTML = html;
  await MathJax.startup.promise;
  MathJax.typesetClear();
  await MathJax.typesetPromise([qa]);
  const problems = [];
  for (const img of qa.querySelectorAll("img")) {
    try { await img.decode(); } catch (e) {
      problems.push(`image ${img.getAttribute("src")} does not load`);
    }
  }
  const quote = (text, n) => `'${text.length > n ? text.slice(0, n) + "…" : text}'`;
  const tex = new Map();
  for (const item of MathJax.startup.document.math) tex.set(item.typesetRoot, item.math);
  const formula = (el) => {
    const root = el.closest("mjx-container");
    return root && tex.has(root) ? quote(tex.get(root), 90) : null;
  };
  const tag = (el) => {
    const cls = el.getAttribute("class");
    return `<${el.tagName.toLowerCase()}${cls ? ` class="${cls}"` : ""}>`;
  };
  const describe = (el) => {
    const f = formula(el);
    if (f) return `formula ${f}`;
    const inner = el.querySelector("mjx-container");
    if (inner && formula(inner)) return `${tag(el)} holding formula ${formula(inner)}`;
    return `${tag(el)} ${quote(el.textContent.replace(/\s+/g, " ").trim(), 60)}`;
  };
  // MathJax's own tree: noerrors turns a TeX error into <merror>, noundefined (in the full
  // component) an unknown macro into its name in red
  for (const item of MathJax.startup.document.math) {
    const mml = MathJax.startup.toMML(item.root);
    const where = `formula ${quote(item.math, 90)}`;
    for (const m of mml.matchAll(/<merror[^>]*data-mjx-error="([^"]*)"/g))
      problems.push(`MathJax error in ${where}: ${m[1]}`);
    for (const m of mml.matchAll(/<mtext[^>]*mathcolor="red"[^>]*>(\\[^<]*)<\/mtext>/g))
      problems.push(`MathJax: undefined macro ${m[1]} in ${where}`);
  }
  // math MathJax did not find (unbalanced braces, a delimiter cut by HTML) shows as raw TeX;
  // deckgen writes a word joiner after the backslash of a `\(` meant as text
  const texts = document.createTreeWalker(qa, NodeFilter.SHOW_TEXT);
  for (let node; (node = texts.nextNode()); ) {
    if (node.parentElement.closest("mjx-container, style, script, pre, code, textarea")) continue;
    const raw = node.textContent.match(/\\[(\[][^]*/);
    if (raw) problems.push(`math shown as raw TeX: ${quote(raw[0], 60)}`);
  }
  const card = qa.getBoundingClientRect();
  const overflow = (el) => getComputedStyle(el).overflowX;
  const scrolls = (el) => /auto|scroll|hidden/.test(overflow(el));
  const reported = [];
  for (const el of qa.querySelectorAll("*")) {
    if (el.closest("mjx-assistive-mml, style, script")) continue;
    if (reported.some((outer) => outer.contains(el))) continue;
    const code = el.parentElement.closest("pre");
    if (code && code !== qa && scrolls(code)) continue;  // code may scroll (the issue allows it)
    const box = el.getBoundingClientRect();
    if (box.width === 0 && box.height === 0) continue;
    const over = Math.max(box.right - card.right, card.left - box.left);
    if (over > 0.5) {
      reported.push(el);
      let clip = el.parentElement;
      while (clip && clip !== qa && !scrolls(clip)) clip = clip.parentElement;
      const how = clip && clip !== qa ?
        `hidden past the edge of ${tag(clip)}, overflow-x: ${overflow(clip)}` : "sticks out";
      problems.push(`${describe(el)} is ${Math.round(box.width)} px wide, ` +
        `${Math.round(over)} px past the card's ${Math.round(card.width)} px (${how})`);
    }
  }
  const page = document.scrollingElement;
  if (page.scrollWidth > page.clientWidth) {
    const wide = [...document.body.querySelectorAll("*")].filter(
      (el) => el.getBoundingClientRect().right > page.clientWidth + 0.5);
    const outer = wide.filter((el) => !wide.some((o) => o !== el && o.contains(el)));
    const named = outer.slice(0, 3).map((el) => el.closest("mjx-assistive-mml") ?
      `the hidden assistive MathML of ${describe(el)}` : describe(el));
    problems.push(`the page scrolls sideways: ${page.scrollWidth} px wide in ` +
      `${page.clientWidth} px, widened by ${named.join("; ") || "the card itself"}`);
  }
  const shown = (img) => getComputedStyle(img).display !== "none" &&
    img.getBoundingClientRect().width > 0;
  for (const img of qa.querySelectorAll("img.plot-day, img.plot-night")) {
    const wanted = img.classList.contains(night ? "plot-night" : "plot-day");
    if (shown(img) !== wanted)
      problems.push(`${img.className} ${img.getAttribute("src")} is ` +
        `${wanted ? "hidden" : "shown"} in ${night ? "night" : "light"} mode`);
  }
  // notes belong under the answer: a question side (a reversed card's asks with the Back field,
  // notes and all) must not show them
  for (const notes of front ? qa.querySelectorAll(".notes") : [])
    if (notes.getBoundingClientRect().height > 0)
      problems.push(`notes shown before the answer: ${describe(notes)}`);
  return problems;
}
"""


class Reviewer:
    """One reviewer page per mode in headless Chromium; sides are swapped in as Anki does.

    One page per mode rather than per view: loading MathJax costs more than resizing a page.
    """

    def __init__(self, media: Path) -> None:
        self.media = media
        self.pages: dict[str, Any] = {}  # by mode; its width is set per view
        self.refused: list[str] = []  # requests for anything but MathJax and the deck's media
        self.errors: list[str] = []  # JavaScript errors on a page

    async def open(self, browser: Any, mode: str, scale: float = 1) -> None:
        """Open the page of `mode` and wait until MathJax is ready."""
        page = await browser.new_page(
            viewport={"width": WIDTHS[0], "height": 800}, device_scale_factor=scale
        )
        await page.route("**/*", self._serve)
        page.on("pageerror", lambda error: self.errors.append(f"{mode}: {error}"))
        await page.goto(f"{ORIGIN}reviewer-{mode}.html")
        await page.evaluate("MathJax.startup.promise.then(() => true)")
        self.pages[mode] = page

    async def _serve(self, route: Any) -> None:
        """Answer the page's requests from disk: MathJax from node_modules, media from Anki's."""
        url: str = route.request.url
        name = url.removeprefix(ORIGIN) if url.startswith(ORIGIN) else None
        for mode in MODES:
            if name == f"reviewer-{mode}.html":
                await route.fulfill(status=200, body=page_html(mode), content_type="text/html")
                return
        path = self._local(name) if name is not None else None
        if path is None or not path.is_file():
            if not url.endswith("/favicon.ico"):
                self.refused.append(url)
            await route.abort()
            return
        kind = mimetypes.guess_type(path.name)[0] or "application/octet-stream"
        await route.fulfill(status=200, body=path.read_bytes(), content_type=kind)

    def _local(self, name: str) -> Path | None:
        base = self.media
        if name.startswith("_anki/mathjax/"):
            base, name = MATHJAX.parent, name.removeprefix("_anki/mathjax/")
        path = (base / name).resolve()
        return path if path.is_relative_to(base.resolve()) else None

    async def show(self, side: Side, view: View) -> list[str]:
        """Show `side` in the page of `view`; return the problems a reader would see."""
        page = self.pages[view.mode]
        if page.viewport_size["width"] != view.width:
            await page.set_viewport_size({"width": view.width, "height": 800})
        night = view.mode == "night"
        body = f"card card{side.ord + 1}" + (" nightMode night_mode" if night else "")
        problems: list[str] = await page.evaluate(
            SHOW_AND_INSPECT, [side.html, body, night, side.side == "front"]
        )
        return problems

    async def screenshot(self, side: Side, view: View, path: Path) -> list[str]:
        """Show `side` and write a PNG of the whole page to `path`; return its problems."""
        problems = await self.show(side, view)
        await self.pages[view.mode].screenshot(path=str(path), full_page=True)
        return problems


@asynccontextmanager
async def reviewer(media: Path, scale: float = 1) -> AsyncIterator[Reviewer]:
    """Start Debian's Chromium through Playwright (no browser download), one page per mode."""
    from playwright.async_api import async_playwright

    async with async_playwright() as playwright:
        browser = await playwright.chromium.launch(executable_path=str(chromium_path()))
        try:
            shown = Reviewer(media)
            await asyncio.gather(*(shown.open(browser, mode, scale) for mode in MODES))
            yield shown
        finally:
            await browser.close()


async def review(sides: list[Side], media: Path) -> list[str]:
    """Show every side in every view (the two modes side by side); return every problem."""
    async with reviewer(media) as shown:

        async def in_mode(mode: str) -> list[str]:
            found = []
            for view in (View(width, mode) for width in WIDTHS):
                for side in sides:
                    problems = await shown.show(side, view)
                    found += [f"{side.card} {side.side}, {view}: {p}" for p in problems]
            return found

        found = [p for problems in await asyncio.gather(*map(in_mode, MODES)) for p in problems]
        found += [f"JavaScript error in {error}" for error in shown.errors]
        found += [f"request refused (a card may fetch nothing): {url}" for url in shown.refused]
    return found
