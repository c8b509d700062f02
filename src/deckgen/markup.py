"""Card Markdown to HTML: MathJax for Anki, vector math for print; images and clozes checked."""

from __future__ import annotations

import base64
import html
import re
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from functools import cache
from importlib.resources import files
from pathlib import Path
from typing import Any, Literal
from urllib.parse import unquote, urlsplit

from markdown_it import MarkdownIt
from markdown_it.common.utils import escapeHtml
from markdown_it.renderer import RendererHTML
from markdown_it.rules_inline import StateInline
from markdown_it.token import Token
from markdown_it.utils import EnvType, OptionsDict
from mdit_py_plugins.dollarmath import dollarmath_plugin
from pygments import highlight as pygments_highlight
from pygments.formatters import HtmlFormatter
from pygments.lexers import get_lexer_by_name
from pygments.util import ClassNotFound

from deckgen import images, mathsafety
from deckgen.errors import Problem, SourceLoc, quote
from deckgen.images import Image
from deckgen.mathsvg import MathError, typeset
from deckgen.plotspec import Formula, Plot, declare

Target = Literal["anki", "print"]
CLOZE_OPEN = re.compile(r"\{\{c(\d+)::")
MAX_WIDTH = 60  # em: a column of the cheatsheet holds about 30; wider formulas are shrunk to fit
MAX_CLOZE = 500  # Anki shows c1 to c65535 (measured); c0 makes no card, a huge one fails the import
_MATH = ("math_inline", "math_inline_double", "math_block")


def read_template(name: str) -> str:
    """Return the text of a file in the top-level templates/ folder (package deckgen.templates)."""
    return files("deckgen.templates").joinpath(name).read_text(encoding="utf-8")


@cache
def markdown_parser() -> MarkdownIt:
    """Return the one Markdown grammar of card files (CommonMark, tables, math, clozes)."""
    md = MarkdownIt("commonmark", {"html": False, "highlight": _highlight})
    md.enable(["table", "strikethrough"])
    # allow_digits=False: "costs $5 and $10" is money, not math.
    md.use(dollarmath_plugin, allow_digits=False, double_inline=True)
    md.inline.ruler.before("text", "cloze", _cloze_rule)
    # markdown-it leaves links it dislikes (file:, javascript:) as plain text, where a typo goes
    # unnoticed: every link and image becomes a token here and `_inspect` refuses bad ones.
    md.validateLink = lambda url: True  # type: ignore[method-assign]
    return md


def _highlight(code: str, lang: str, _attrs: str) -> str:
    try:
        lexer = get_lexer_by_name(lang) if lang else None
    except ClassNotFound:
        lexer = None
    body = (
        pygments_highlight(code, lexer, HtmlFormatter(nowrap=True)) if lexer else html.escape(code)
    )
    return f'<pre class="code"><code>{body}</code></pre>\n'


def code_css(scope: str, style: str) -> str:
    """Return Pygments colours for code blocks under a CSS selector."""
    formatter = HtmlFormatter(style=style)
    return str(formatter.get_style_defs(f"{scope} .code"))  # type: ignore[no-untyped-call]


def _cloze_rule(state: StateInline, silent: bool) -> bool:
    """Parse {{cN::text}} and {{cN::text::hint}}; a `}}` inside math or code does not close it."""
    opening = CLOZE_OPEN.match(state.src, state.pos)
    if opening is None:
        return False
    close, hint = _cloze_end(state, opening.end())
    if close is None:
        return False
    if not silent:
        token = state.push("cloze_open", "", 0)
        token.meta = {"n": int(opening.group(1))}
        token.info = state.src[hint + 2 : close] if hint is not None else ""
        limit = state.posMax
        state.pos, state.posMax = opening.end(), hint if hint is not None else close
        state.md.inline.tokenize(state)
        state.posMax = limit
        state.push("cloze_close", "", 0).info = token.info
    state.pos = close + 2
    return True


def _cloze_end(state: StateInline, start: int) -> tuple[int | None, int | None]:
    """Find the `}}` that closes a cloze (and its `::hint`), skipping whole inline tokens."""
    saved, pos, hint = state.pos, start, None
    try:
        while pos < state.posMax:
            if state.src.startswith("}}", pos):
                return pos, hint
            if hint is None and state.src.startswith("::", pos):
                hint, pos = pos, pos + 2
                continue
            state.pos = pos
            state.md.inline.skipToken(state)
            pos = state.pos
        return None, None
    finally:
        state.pos = saved


@dataclass
class Rendered:
    """HTML of one card side, the images it uses, and what is wrong with it."""

    html: str
    images: list[Image] = field(default_factory=list)
    plots: list[Plot] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)
    deletions: set[int] = field(default_factory=set)  # cloze numbers with something to hide
    formulas: list[DisplayFormula] = field(default_factory=list)  # display math, for verification
    inline: list[InlineFormula] = field(default_factory=list)  # inline math, for verification


def _count_deletion(token: Token, previous: Token | None, loc: SourceLoc, out: Rendered) -> None:
    """Note each cloze deletion's number; an empty one makes no Anki card, so it is an error."""
    if token.type == "cloze_close" and previous is not None and previous.type == "cloze_open":
        out.problems.append(Problem(loc, "empty cloze deletion: Anki makes no card for it"))
        out.deletions.discard(previous.meta["n"])
    elif token.type == "cloze_open":
        out.deletions.add(token.meta["n"])


def render(
    markdown: str,
    loc: SourceLoc,
    cards_dir: Path,
    target: Target,
    *,
    cloze: bool = False,
    plot_svgs: Mapping[str, bytes] | None = None,
) -> Rendered:
    """Render one side of a card for Anki or for print, checking math, images, plots and clozes.

    Print shows plots as SVG: `plot_svgs` holds each plot's drawing by key.
    """
    tokens = markdown_parser().parse(markdown)
    result = Rendered("")
    previous: Token | None = None
    inline: list[tuple[Token, SourceLoc]] = []
    for token, line in _located(tokens, loc):
        _inspect(token, line, cards_dir, cloze, result)
        if token.type == "math_inline":
            inline.append((token, line))
        _count_deletion(token, previous, line, result)
        previous = token
    blocks = _read_blocks(tokens, loc, result)
    result.inline = [
        InlineFormula(token.content.strip(), line, blocks.get(id(token))) for token, line in inline
    ]
    renderer = _renderer(target)
    env: dict[str, Any] = {"cloze": cloze, "plot_svgs": plot_svgs or {}}
    result.html = renderer.render(tokens, markdown_parser().options, env)
    return result


@cache
def _renderer(target: Target) -> RendererHTML:
    """One renderer per target: building one inspects its methods (slow); they keep no state."""
    return _AnkiRenderer() if target == "anki" else _PrintRenderer()


def _read_blocks(tokens: list[Token], loc: SourceLoc, out: Rendered) -> dict[int, VerifyBlock]:
    """Pair display formulas with their verify blocks; read every plot block, with the verified
    formula right above it if there is one. Return the block covering each inline math token
    (by id) that a paragraph's verify block covers."""
    paired, problems, covered = _paired_formulas(tokens, loc)
    out.formulas = [formula for formula, _ in paired]
    out.problems += problems
    verified = {
        index: Formula(formula.latex, tuple(line for line, _ in formula.block or ()))
        for formula, index in paired
        if index is not None
    }
    for index, token in enumerate(tokens):
        if _is_plot(token) and token.map:
            block_loc = loc.at(token.map[0] + 1)
            plot, problems = declare(token.content, block_loc, verified.get(index - 1))
            out.problems += problems
            if plot is not None:
                token.meta["plot"] = plot
                out.plots.append(plot)
    return covered


VerifyBlock = tuple[tuple[str, SourceLoc], ...]  # the lines of a `verify` block, each located


@dataclass(frozen=True)
class DisplayFormula:
    """A `$$` formula and the lines of the `verify` block under it (None: it has none)."""

    latex: str
    loc: SourceLoc
    block: VerifyBlock | None


@dataclass(frozen=True)
class InlineFormula:
    """A `$` formula in running text, with the verify block under its paragraph, if any."""

    latex: str
    loc: SourceLoc
    block: VerifyBlock | None = None


def display_formulas(markdown: str, loc: SourceLoc) -> tuple[list[DisplayFormula], list[Problem]]:
    """Find every display formula of a card side with its verify block."""
    paired = _paired_formulas(markdown_parser().parse(markdown), loc)
    return [formula for formula, _ in paired[0]], paired[1]


def _paired_formulas(
    tokens: list[Token], loc: SourceLoc
) -> tuple[list[tuple[DisplayFormula, int | None]], list[Problem], dict[int, VerifyBlock]]:
    """Every display formula with the token index of its verify block, stray blocks, and the
    block covering each inline math token under a paragraph's block."""
    found: list[tuple[DisplayFormula, int | None]] = []
    problems: list[Problem] = []
    claimed: set[int] = set()
    for index, token in enumerate(tokens):
        if token.type == "math_block" and token.map:
            block = _verify_block(tokens, index + 1, loc, claimed)
            formula = DisplayFormula(token.content.strip(), loc.at(token.map[0]), block)
            found.append((formula, index + 1 if block is not None else None))
        elif token.type == "inline" and token.map:
            displays = [c for c in token.children or [] if c.type == "math_inline_double"]
            for child in displays:  # `$$..$$` inside a paragraph is displayed too
                # a verify block after the paragraph belongs to its formula if it has just one
                block = (
                    _verify_block(tokens, index + 2, loc, claimed) if len(displays) == 1 else None
                )
                formula = DisplayFormula(child.content.strip(), loc.at(token.map[0]), block)
                found.append((formula, index + 2 if block is not None else None))
    covered: dict[int, VerifyBlock] = {}
    for index, token in enumerate(tokens):
        if _is_verify(token) and token.map and index not in claimed:
            inline = _inline_math_above(tokens, index)
            block = _verify_block(tokens, index, loc, claimed) if inline else None
            if block is None:
                problems.append(Problem(loc.at(token.map[0]), STRAY_BLOCK))
            covered.update((id(math), block) for math in inline if block is not None)
    return found, problems, covered


STRAY_BLOCK = (
    "a verify block must come right after the $$ formula it checks, "
    "or after the paragraph whose inline math it checks"
)


def _inline_math_above(tokens: list[Token], index: int) -> list[Token]:
    """The inline math of the paragraph, list, quote or table right above token `index`."""
    if index == 0 or tokens[index - 1].nesting != -1:
        return []
    level, start = tokens[index - 1].level, index - 1
    while start > 0 and not (tokens[start].nesting == 1 and tokens[start].level == level):
        start -= 1
    return [
        child
        for token in tokens[start:index]
        if token.type == "inline"
        for child in token.children or []
        if child.type == "math_inline"
    ]


def _is_verify(token: Token) -> bool:
    return token.type == "fence" and token.info.strip() == "verify"


def _is_plot(token: Token) -> bool:
    return token.type == "fence" and token.info.strip() == "plot"


def _verify_block(
    tokens: list[Token], index: int, loc: SourceLoc, claimed: set[int]
) -> VerifyBlock | None:
    token = tokens[index] if index < len(tokens) else None
    if token is None or not _is_verify(token) or not token.map:
        return None
    claimed.add(index)
    first = loc.at(token.map[0] + 1)
    return tuple((line, first.at(n)) for n, line in enumerate(token.content.splitlines()))


def _located(tokens: list[Token], loc: SourceLoc) -> Iterator[tuple[Token, SourceLoc]]:
    """Yield every token, inline ones included, with the source line it comes from."""
    line = loc
    for token in tokens:
        if token.map:
            line = loc.at(token.map[0])
        yield token, line
        cursor = 0
        for child in token.children or []:
            for needle in _needles(child):
                found = token.content.find(needle, cursor)
                if found >= 0:
                    cursor = found
                    break
            yield child, line.at(token.content.count("\n", 0, cursor))


def _needles(child: Token) -> list[str]:
    """What an inline token's source text may be found by, most telling first."""
    if child.type == "cloze_open":
        return [f"{{{{c{child.meta['n']}::"]
    addresses = [str(child.attrGet(name)) for name in ("src", "href") if child.attrGet(name)]
    # markdown-it percent-encodes addresses: the source has them as written
    needles = [form for address in addresses for form in (unquote(address), address)]
    return [*needles, child.content] if child.content else needles


def _inspect(token: Token, loc: SourceLoc, cards_dir: Path, cloze: bool, out: Rendered) -> None:
    if token.type in _MATH:
        _check_math(token, loc, out)
    elif token.type == "image":
        _check_image(token, loc, cards_dir, out)
    elif token.type == "link_open":
        _check_link(str(token.attrGet("href") or ""), loc, out)
    elif token.type == "text" and "$$" in token.content:
        out.problems.append(Problem(loc, "unclosed $$: display math needs a closing '$$'"))
    elif token.type == "text" and CLOZE_OPEN.search(token.content):
        out.problems.append(Problem(loc, "cloze deletion is not closed with '}}'"))
    elif token.type == "cloze_open" and not cloze:
        message = "cloze deletion outside the text of a type=cloze card (not in titles or answers)"
        out.problems.append(Problem(loc, message))
    elif token.type == "cloze_open" and not 1 <= token.meta["n"] <= MAX_CLOZE:
        message = (
            f"cloze number c{quote(str(token.meta['n']))}: number deletions c1 to c{MAX_CLOZE}"
        )
        out.problems.append(Problem(loc, message))


def _check_link(href: str, loc: SourceLoc, out: Rendered) -> None:
    """Only web and mail addresses: a relative or file link means nothing in Anki or on paper."""
    url = urlsplit(href)
    if not (url.scheme in ("http", "https") and url.netloc) and url.scheme != "mailto":
        message = f"link '{quote(href)}' must be an http(s):// or mailto: address"
        out.problems.append(Problem(loc, message))


def _check_math(token: Token, loc: SourceLoc, out: Rendered) -> None:
    latex = token.content.strip()
    if re.search(r"^#{1,6}\s", token.content, re.MULTILINE):
        out.problems.append(Problem(loc, "unclosed $$: the display math runs into a heading"))
        return
    refused = mathsafety.refusal(latex)
    if refused is not None:
        out.problems.append(Problem(loc, f"formula ${quote(latex)}$: {refused}"))
        return
    try:
        math = typeset(latex, token.type != "math_inline")
    except MathError as err:
        out.problems.append(Problem(loc, f"cannot typeset formula ${quote(latex)}$: {err}"))
        return
    if not mathsafety.braces_close(latex):
        message = "its braces do not pair up as MathJax counts them, so the math would run on"
        out.problems.append(Problem(loc, f"formula ${quote(latex)}$: {message}"))
        return
    if math.width > MAX_WIDTH:
        message = (
            f"formula ${quote(latex)}$ is {math.width:.0f} em wide; split it (at most {MAX_WIDTH})"
        )
        out.problems.append(Problem(loc, message))
        return
    token.meta["math"] = math


def _check_image(token: Token, loc: SourceLoc, cards_dir: Path, out: Rendered) -> None:
    src = str(token.attrGet("src") or "")
    try:
        image = images.read(src, loc.path.parent, cards_dir)
    except images.ImageError as err:
        out.problems.append(Problem(loc, f"image '{quote(src)}' {err}"))
        return
    token.meta["image"] = image
    out.images.append(image)


class _Renderer(RendererHTML):
    """What both outputs share: a verify block is for deckgen, not for the reader."""

    def fence(self, tokens: Sequence[Token], idx: int, options: OptionsDict, env: EnvType) -> str:
        if _is_verify(tokens[idx]):
            return ""
        if _is_plot(tokens[idx]):
            plot: Plot | None = tokens[idx].meta.get("plot")
            return self.plot(plot, env) if plot else ""  # no plot: the build fails anyway
        return str(super().fence(tokens, idx, options, env))

    def plot(self, plot: Plot, env: EnvType) -> str:
        raise NotImplementedError


def _caption(plot: Plot) -> str:
    return f'<div class="plot-caption">{html.escape(plot.caption)}</div>' if plot.caption else ""


def _alt(plot: Plot) -> str:
    return html.escape(plot.caption or f"{plot.kind} plot", quote=True)


class _AnkiRenderer(_Renderer):
    """MathJax delimiters around untouched LaTeX; media names; Anki cloze syntax.

    Text and code pass `_inert` so that nothing but deckgen's own markup acts in Anki.
    """

    def plot(self, plot: Plot, env: EnvType) -> str:
        # Both drawings go in the note; the note type's CSS shows the one for the current mode.
        day, night = plot.media_name(), plot.media_name(night=True)
        caption, alt = _inert(_caption(plot), env), _attribute(plot.caption or f"{plot.kind} plot")
        return (
            f'<div class="plot"><img class="plot-day" src="{day}" alt="{alt}">'
            f'<img class="plot-night" src="{night}" alt="{alt}">{caption}</div>\n'
        )

    @staticmethod
    def renderAttrs(token: Token) -> str:
        return "".join(
            f' {_attribute(key)}="{_attribute(str(value))}"' for key, value in token.attrItems()
        )

    def text(self, tokens: Sequence[Token], idx: int, options: OptionsDict, env: EnvType) -> str:
        glued = env.get("glued", {}).get(id(tokens[idx]), 0)
        return _inert(escapeHtml(tokens[idx].content[glued:]), env)

    def code_inline(
        self, tokens: Sequence[Token], idx: int, options: OptionsDict, env: EnvType
    ) -> str:
        return _inert(super().code_inline(tokens, idx, options, env), env)

    def code_block(
        self, tokens: Sequence[Token], idx: int, options: OptionsDict, env: EnvType
    ) -> str:
        return _inert(super().code_block(tokens, idx, options, env), env)

    def fence(self, tokens: Sequence[Token], idx: int, options: OptionsDict, env: EnvType) -> str:
        return _inert(super().fence(tokens, idx, options, env), env)

    def math_inline(self, tokens: Sequence[Token], idx: int, _o: OptionsDict, env: EnvType) -> str:
        math = r"\(" + _anki_latex(tokens[idx].content, env) + r"\)"
        after = tokens[idx + 1] if idx + 1 < len(tokens) else None
        punctuation = _PUNCTUATION.match(after.content) if after and after.type == "text" else None
        if after is None or punctuation is None:
            return math
        # Punctuation right after math stays on its line: the pair cannot be broken apart.
        env.setdefault("glued", {})[id(after)] = punctuation.end()
        glued = _inert(escapeHtml(punctuation.group()), env)
        return f'<span class="nowrap">{math}{glued}</span>'

    def math_inline_double(
        self, tokens: Sequence[Token], idx: int, _o: OptionsDict, env: EnvType
    ) -> str:
        return r"\[" + _anki_latex(tokens[idx].content, env) + r"\]"

    def math_block(self, tokens: Sequence[Token], idx: int, _o: OptionsDict, env: EnvType) -> str:
        latex = _anki_latex(tokens[idx].content.strip(), env)
        return f'<div class="math-display">\\[{latex}\\]</div>\n'

    def image(self, tokens: Sequence[Token], idx: int, _o: OptionsDict, _env: EnvType) -> str:
        token = tokens[idx]
        image: Image | None = token.meta.get("image")
        src = image.media_name if image else ""
        return f'<img src="{html.escape(src)}" alt="{_attribute(token.content)}">'

    def cloze_open(self, tokens: Sequence[Token], idx: int, _o: OptionsDict, _env: EnvType) -> str:
        return f"{{{{c{tokens[idx].meta['n']}::"

    def cloze_close(self, tokens: Sequence[Token], idx: int, _o: OptionsDict, env: EnvType) -> str:
        hint = tokens[idx].info
        return f"::{_inert(html.escape(hint), env)}}}}}" if hint else "}}"


# A word joiner (invisible) after a backslash keeps `\(` in text from opening MathJax math.
_MATH_DELIMITER = re.compile(r"\\(?=[()[\]])")
_JOINER = "\\&#8288;"
# In cloze notes Anki reads `{{`, `}}` and `::` anywhere in the field, before HTML is decoded:
# written as character references they show the same and stay out of Anki's cloze syntax.
_CLOZE_SYNTAX = {"{{": "{&#123;", "}}": "}&#125;", "::": ":&#58;"}


_PUNCTUATION = re.compile(r"[.,;:!?)\]\u2019\u201d'\"]+")

# Anki plays `[sound:...]` and speaks `[anki:tts ...]` written anywhere on a card.
_AV_TAG = re.compile(r"\[(?=sound:|anki:)", re.IGNORECASE)


def _attribute(value: str) -> str:
    """Escape an attribute value for an Anki field (alt text, link address and title): Anki reads
    cloze and sound syntax in attributes too, and a character reference there means the same."""
    return _inert(html.escape(value, quote=True), {"cloze": True})


def _inert(markup: str, env: EnvType) -> str:
    """Make rendered text show as written in Anki: no MathJax delimiters, sound tags or cloze
    syntax."""
    markup = _MATH_DELIMITER.sub(_JOINER, markup)
    markup = _AV_TAG.sub("[&#8288;", markup)
    if env.get("cloze"):
        for syntax, reference in _CLOZE_SYNTAX.items():
            markup = markup.replace(syntax, reference)
    return markup


def _anki_latex(latex: str, env: EnvType) -> str:
    """Escape LaTeX for an HTML field; in cloze notes keep it out of Anki's cloze syntax."""
    latex = html.escape(latex, quote=False)
    if env.get("cloze"):
        while "}}" in latex:
            latex = latex.replace("}}", "} }")  # MathJax reads `} }` as `}}`
        latex = latex.replace("{{", "{&#123;").replace("::", ":&#58;")
    return latex


class _PrintRenderer(_Renderer):
    """Vector math and plots as SVG images, images as file URLs, clozes highlighted."""

    def plot(self, plot: Plot, env: EnvType) -> str:
        svg = env["plot_svgs"].get(plot.key, b"")
        src = "data:image/svg+xml;base64," + base64.b64encode(svg).decode()
        return f'<div class="plot"><img src="{src}" alt="{_alt(plot)}">{_caption(plot)}</div>\n'

    def math_inline(self, tokens: Sequence[Token], idx: int, _o: OptionsDict, _env: EnvType) -> str:
        return _math_img(tokens[idx], "inline")

    def math_inline_double(
        self, tokens: Sequence[Token], idx: int, _o: OptionsDict, _env: EnvType
    ) -> str:
        return _math_img(tokens[idx], "display")

    def math_block(self, tokens: Sequence[Token], idx: int, _o: OptionsDict, _env: EnvType) -> str:
        return f'<div class="math-display">{_math_img(tokens[idx], "display")}</div>\n'

    def image(self, tokens: Sequence[Token], idx: int, _o: OptionsDict, _env: EnvType) -> str:
        token = tokens[idx]
        image: Image | None = token.meta.get("image")
        src = image.source.as_uri() if image else ""
        return f'<img class="figure" src="{html.escape(src)}" alt="{html.escape(token.content)}">'

    def cloze_open(self, tokens: Sequence[Token], idx: int, _o: OptionsDict, _env: EnvType) -> str:
        return '<span class="cloze">'

    def cloze_close(self, tokens: Sequence[Token], idx: int, _o: OptionsDict, _env: EnvType) -> str:
        return "</span>"


def _math_img(token: Token, style: str) -> str:
    math = token.meta.get("math")
    if math is None:  # only reached when the build already failed on this formula
        return html.escape(token.content)
    alt = html.escape(token.content.strip())
    return (
        f'<img class="math {style}" src="{math.data_uri()}" alt="{alt}" '
        f'style="width:{math.width}em;vertical-align:{math.baseline}em">'
    )
