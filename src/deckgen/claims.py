"""A display formula and its `verify` block, read into declared symbols and checkable claims.

The block below a formula declares what its symbols are and what is claimed about the formula:

    where \\lambda > 0
    pmf k: P(X = k)
    mean: \\lambda

The formula itself is split at `\\quad`/`\\qquad` into statements. `k = 0, 1, \\dots` or
`x \\in \\mathbb{R}` declares a variable's range; `L = R` whose left side is not an expression of
declared symbols defines notation L as R; every other `=`, `\\le`, `<`, `\\approx` is a claim.
"""

from __future__ import annotations

import itertools
import re
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from fractions import Fraction
from functools import partial

from deckgen.errors import Problem, SourceLoc
from deckgen.latex import (
    DOTS,
    GREEK,
    RELATIONS,
    Big,
    Call,
    Expr,
    Idx,
    Infinity,
    LatexError,
    Names,
    Neg,
    Num,
    Parser,
    Sym,
    Tok,
    Undeclared,
    depth_change,
    is_separator,
    key,
    parse_tokens,
    plain_word,
    significant,
    split_top_level,
    tokenize,
)
from deckgen.mathsafety import MAX_LATEX
from deckgen.statements import Shape

CLAIM_KINDS = (
    "pmf",
    "pdf",
    "mean",
    "variance",
    "dist",
    "holds",
    "value",
    "derivative",
    "max",
    "min",
    "argmax",
    "argmin",
    "mgf",
)
NEEDS_VAR = frozenset({"pmf", "pdf", "derivative", "argmax", "argmin", "mgf"})
NEEDS_DISTRIBUTION = frozenset({"mean", "variance", "dist", "mgf"})
DISTRIBUTIONS = {  # sympy.stats names, with their parameters in sympy.stats' order and meaning
    "Bernoulli": 1,
    "Binomial": 2,
    "Poisson": 1,
    "Geometric": 1,
    "NegativeBinomial": 2,
    "Hypergeometric": 3,
    "Normal": 2,
    "Exponential": 1,
    "Uniform": 2,
    "LogNormal": 2,
    "Gamma": 2,
    "Beta": 2,
    "ChiSquared": 1,
    "StudentT": 1,
    "Laplace": 2,
    "Weibull": 2,
    "Pareto": 2,
}
_DIST = re.compile(
    r"(?:\\(?:text|operatorname|mathrm|mathcal)\{(\w+)\}|(\w+))\s*\((.*)\)", re.DOTALL
)
# the short names references use; N(mu, sigma^2) takes the variance, sympy's Normal the deviation
ALIASES = {
    "N": "Normal", "Pois": "Poisson", "Bin": "Binomial", "Ber": "Bernoulli", "Bern": "Bernoulli",
    "Exp": "Exponential", "U": "Uniform", "Unif": "Uniform", "Geom": "Geometric",
}  # fmt: skip
_LINE = re.compile(r"(?P<kind>[a-z]+)(?:\s+(?P<var>[^:]+?))?\s*:\s*(?P<text>.*)")


@dataclass(frozen=True)
class Domain:
    """Where a symbol lives: integers or reals, between optional bounds."""

    integer: bool = False
    lower: Expr | None = None
    upper: Expr | None = None
    lower_open: bool = False
    upper_open: bool = False
    excluded: Expr | None = None  # a hole: z \\ne 0


@dataclass(frozen=True)
class Claim:
    """One checkable statement: `subject relation value`, plus what the kind needs."""

    kind: str
    loc: SourceLoc
    text: str
    subject: Expr | None = None
    value: Expr | None = None
    relation: str = "="
    var: str | None = None
    distribution: tuple[str, tuple[Expr, ...]] | None = None
    pmf_kind: str | None = None  # for mean/variance/dist/mgf: "pmf" or "pdf"
    param: str | None = None  # the mgf's argument t

    @property
    def label(self) -> str:
        return (
            {"=": "identity", "~": "approximation", "sim": "distribution"}.get(
                self.relation, "bound"
            )
            if (self.kind == "holds")
            else self.kind
        )


@dataclass(frozen=True)
class Spec:
    """A verified display formula: its symbols' domains and its claims."""

    loc: SourceLoc
    latex: str
    domains: dict[str, Domain]
    families: frozenset[str]
    claims: tuple[Claim, ...]
    unverified: str | None = None
    randoms: tuple[tuple[str, tuple[str, tuple[Expr, ...]]], ...] = ()  # X ~ Poisson(lambda)
    simplex: frozenset[str] = frozenset()  # families that sum to 1: probability vectors


@dataclass
class _Reader:
    """Accumulates declarations and claims while reading one formula and its block."""

    loc: SourceLoc
    names: Names = field(default_factory=Names)
    domains: dict[str, Domain] = field(default_factory=dict)
    claims: list[Claim] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)
    subject: Expr | None = None
    distribution: Claim | None = None
    pending: list[str] = field(default_factory=list)  # `x, y \\in S`: names waiting for S
    defined: list[tuple[tuple[str, ...], str]] = field(default_factory=list)  # by the formula
    subject_key: tuple[str, ...] | None = None  # the notation the first statement defines
    lets: list[tuple[tuple[str, ...], str]] = field(default_factory=list)
    randoms: dict[str, tuple[str, tuple[Expr, ...]]] = field(default_factory=dict)
    simplex: set[str] = field(default_factory=set)


MAX_LINES = 50


def _too_long(text: str) -> str:
    return f"verify line is {len(text)} characters long; split it (at most {MAX_LATEX})"


def _block_lines(
    block: list[tuple[str, SourceLoc]],
) -> tuple[list[tuple[str, SourceLoc]], list[Problem]]:
    """The block's lines to read, without blanks and comments; problems if it is too big."""
    lines = [(text.strip(), where) for text, where in block if text.strip()]
    long = [Problem(where, _too_long(text)) for text, where in lines if len(text) > MAX_LATEX]
    if long:  # reading is quadratic in a line's length: refuse before reading
        return [], long
    if len(lines) > MAX_LINES:  # each claim is a job carrying the whole block
        return [], [
            Problem(lines[0][1], f"verify block has {len(lines)} lines (at most {MAX_LINES})")
        ]
    return [(text, where) for text, where in lines if not text.startswith("%")], []


def read_spec(
    latex: str, loc: SourceLoc, block: list[tuple[str, SourceLoc]]
) -> tuple[Spec | None, list[Problem]]:
    """Read a formula and the lines of its verify block; return the spec or the problems."""
    reader = _Reader(loc)
    lines, problems = _block_lines(block)
    if problems:
        return None, problems
    unverified = [text for text, _ in lines if text.startswith("unverified")]
    if unverified:
        return _unverified(latex, loc, lines)
    for text, where in lines:
        if text.startswith("where ") or text.startswith("let "):
            _guard(reader, where, partial(_declaration, reader, text, where))
    _guard(reader, loc, lambda: _formula(reader, latex))
    if reader.problems:  # claims about a formula that cannot be read would only add noise
        return None, reader.problems
    for text, where in lines:
        if not (text.startswith("where ") or text.startswith("let ")):
            _guard(reader, where, partial(_claim_line, reader, text, where))
    if not reader.problems and not reader.claims:
        reader.problems.append(Problem(loc, "verify block makes no claim about the formula"))
    unused = [spelled for pattern, spelled in reader.defined if pattern not in reader.names.used]
    if unused and not reader.problems:
        reader.problems.append(Problem(loc, _unused(unused[0])))
    _check_lets_used(reader, loc)
    if reader.problems:
        return None, reader.problems
    families = frozenset(reader.names.families)
    randoms, simplex = tuple(reader.randoms.items()), frozenset(reader.simplex)
    claims = tuple(reader.claims)
    return Spec(loc, latex, reader.domains, families, claims, randoms=randoms, simplex=simplex), []


def _check_lets_used(reader: _Reader, loc: SourceLoc) -> None:
    for pattern, spelled in reader.lets:
        if pattern not in reader.names.used and not reader.problems:
            message = f"`let {spelled}` is never used: is the formula spelling it differently?"
            reader.problems.append(Problem(loc, message))


@dataclass(frozen=True)
class Statement:
    """An inline statement of a paragraph: its text, where it is, and its shape."""

    latex: str
    loc: SourceLoc
    shape: Shape


@dataclass
class Paragraph:
    """What a paragraph's verify block made of its inline statements."""

    spec: Spec | None  # every claim read, each at its own statement's line
    problems: list[Problem]
    status: list[str]  # per statement: checked, notation (given too) or unverified
    reasons: dict[int, str] = field(default_factory=dict)  # why a statement is unverified


def read_paragraph(statements: list[Statement], block: list[tuple[str, SourceLoc]]) -> Paragraph:
    """Read a paragraph's inline statements with the verify block under it.

    The block declares names (`where`, `let`) and marks hypotheses (`given: <statement>`). Each
    claim of the paragraph, and each definition of a name the block gives a meaning, is then read
    as a display formula's statements are. Conditions (`n > 1`) assume and are not checked:
    domains come from the `where` line."""
    loc = block[0][1] if block else statements[0].loc
    status = ["unverified" if s.shape.kind == "claim" else "notation" for s in statements]
    lines, problems = _block_lines(block)
    if problems:
        return Paragraph(None, problems, status)
    if any(text.startswith("unverified") for text, _ in lines):
        spec, problems = _unverified("", loc, lines)
        reason = spec.unverified if spec is not None else None
        reasons = {i: reason for i, s in enumerate(status) if s == "unverified" and reason}
        return Paragraph(None, problems, status, reasons)
    reader = _Reader(loc)
    given = _paragraph_lines(reader, lines)
    _mark_given(reader, statements, given, status)
    paragraph = Paragraph(None, reader.problems, status)
    for index, statement in enumerate(statements):
        if status[index] != "given" and statement.shape.kind != "condition":
            _read_statement(reader, index, statement, paragraph)
    paragraph.status = ["notation" if s == "given" else s for s in status]
    _check_lets_used(reader, loc)
    if not reader.problems:
        latex = " \\qquad ".join(s.latex for s in statements)
        families = frozenset(reader.names.families)
        claims, randoms = tuple(reader.claims), tuple(reader.randoms.items())
        simplex = frozenset(reader.simplex)
        paragraph.spec = Spec(
            loc, latex, reader.domains, families, claims, randoms=randoms, simplex=simplex
        )
    return paragraph


def _paragraph_lines(
    reader: _Reader, lines: list[tuple[str, SourceLoc]]
) -> list[tuple[str, SourceLoc]]:
    """Read the declarations; return the `given:` lines; a claim line here is a problem."""
    given: list[tuple[str, SourceLoc]] = []
    for text, where in lines:
        if text.startswith("given:"):
            given.append((text.partition(":")[2].strip(), where))
        elif text.startswith(("where ", "let ")):
            _guard(reader, where, partial(_declaration, reader, text, where))
        else:
            kind = text.partition(":")[0].split(" ")[0]
            message = (
                f"a verify block under a paragraph takes where, let and given lines, not "
                f"'{kind}': claims of its own belong under a $$ formula"
            )
            reader.problems.append(Problem(where, message))
    return given


def _mark_given(
    reader: _Reader,
    statements: list[Statement],
    given: list[tuple[str, SourceLoc]],
    status: list[str],
) -> None:
    """`given: n \\ge 30` marks that statement of the paragraph a hypothesis, not a claim."""
    keys = [key(tokenize(s.latex)) if s.shape.sides else None for s in statements]
    for text, where in given:
        try:
            wanted = key(tokenize(text))
        except LatexError as err:
            reader.problems.append(Problem(where, str(err)))
            continue
        found = [index for index, k in enumerate(keys) if k == wanted]
        if not found:
            message = f"given: '{text}' is not a statement of the paragraph above"
            reader.problems.append(Problem(where, message))
        for index in found:
            status[index] = "given"


def _read_statement(reader: _Reader, index: int, statement: Statement, out: Paragraph) -> None:
    """Read one statement's claims; leave it unverified, with why, if they cannot be read."""
    if not statement.shape.checkable:
        if statement.shape.kind == "claim":
            out.reasons[index] = "deckgen does not check \\to statements yet"
        return
    reader.loc = statement.loc
    latex = statement.latex
    before = len(reader.claims)
    try:
        tokens = tokenize(latex)
        parts = _split_relations(tokens)
        if parts[1][0] in ("=", "sim") and _is_notation(reader, parts[0][1], latex):
            if statement.shape.kind == "claim":  # a definition of a new name is just notation
                spelled = _spelled(parts[0][1], latex)
                out.reasons[index] = f"'{spelled}' means nothing yet: add `let {spelled} = ...`"
            return
        _statement(reader, tokens, latex)
    except Undeclared as err:  # a typo, or a name the block forgot: the author must see it
        reader.problems.append(Problem(statement.loc, str(err)))
    except LatexError as err:  # beyond what deckgen reads: unverified, saying why
        out.reasons[index] = str(err)
        out.status[index] = "unverified"
        del reader.claims[before:]
    if len(reader.claims) > before:
        out.status[index] = "checked"


def _unused(spelled: str) -> str:
    return (
        f"no claim uses '{spelled}', so a typo in it would go unnoticed: "
        f"name it in a claim, like `holds: {spelled} = ...`"
    )


def _unverified(
    latex: str, loc: SourceLoc, lines: list[tuple[str, SourceLoc]]
) -> tuple[Spec | None, list[Problem]]:
    text, where = lines[0]
    reason = text.partition(":")[2].strip()
    if len(lines) > 1 or not text.startswith("unverified:") or not reason:
        return None, [Problem(where, "write `unverified: <reason>` alone in its verify block")]
    return Spec(loc, latex, {}, frozenset(), (), unverified=reason), []


def _guard(reader: _Reader, loc: SourceLoc, step: Callable[[], None]) -> None:
    try:
        step()
    except LatexError as err:
        reader.problems.append(Problem(loc, str(err)))


# --- where / let ------------------------------------------------------------------------------


def _declaration(reader: _Reader, text: str, loc: SourceLoc) -> None:
    word, _, rest = text.partition(" ")
    if word == "let":
        _let(reader, rest)
        return
    for part in split_top_level(tokenize(rest), lambda t: t.kind == "char" and t.value == ","):
        if not part:
            raise LatexError("empty declaration between commas")
        _declare(reader, part, rest)
    if reader.pending:
        name = reader.pending[0]
        raise LatexError(f"'{name}' is listed without a domain, like `{name} \\in \\mathbb{{R}}`")
    for name in reader.names.symbols:
        if plain_word(name) and all(letter in reader.names.symbols for letter in name):
            raise LatexError(
                f"'{name}' could also be read as a product of declared "
                f"{', '.join(name)}: rename one of them"
            )


def _declare(reader: _Reader, tokens: list[Tok], source: str) -> None:
    """Read `x \\in SET`, `x > 0`, `0 < p < 1` or a bare name waiting for the next domain."""
    parts = _split_relations(tokens)
    if len(parts) == 1:
        reader.pending.append(_declared_name(reader, tokens, source))
    elif parts[1][0] == "!=" and len(parts) == 2:  # a hole: z \\ne 0
        name = _declared_name(reader, parts[0][1], source)
        hole = _parse(reader, parts[1][1], source)
        reader.domains[name] = replace(reader.domains.get(name, Domain()), excluded=hole)
    elif parts[1][0] == "=" and len(parts) == 2:  # a probability vector: \\sum_k p_k = 1
        reader.simplex.add(_summing_to_one(reader, parts, source))
    elif parts[1][0] == "sim" and len(parts) == 2:  # a random variable: X \\sim Poisson(\\lambda)
        name = _declared_name(reader, parts[0][1], source)
        reader.randoms[name] = _distribution(reader, _spelled(parts[1][1], source))
        reader.names.randoms.add(name)
    elif parts[1][0] == "in":
        domain = _set_domain(reader, parts[1][1], source)
        for name in [*reader.pending, _declared_name(reader, parts[0][1], source)]:
            reader.domains[name] = domain
        reader.pending.clear()
    else:
        _inequality_domain(reader, parts, source)


def _summing_to_one(reader: _Reader, parts: list[tuple[str, list[Tok]]], source: str) -> str:
    """`\\sum_{k=1}^{K} p_k = 1`: the family p is a probability vector; return its name."""
    total, one = (_parse(reader, part, source) for _, part in parts)
    body = total.body if isinstance(total, Big) and total.operator == "sum" else None
    if not (isinstance(body, Idx) and body.index == Sym(total.var) and one == Num(Fraction(1))):  # type: ignore[union-attr]
        raise LatexError(f"cannot read a domain from '{source.strip()}': like \\sum_k p_k = 1")
    return body.family


def _declared_name(reader: _Reader, tokens: list[Tok], source: str) -> str:
    """A name being declared: `x`, `\\lambda`, `\\sigma_X`, `TP`, or a family `x_i`."""
    spelled = "".join(t.value for t in tokens if t.kind == "letter")
    if tokens and all(t.kind == "letter" for t in tokens) and len(tokens) > 1:
        if any(tokens[i].end != tokens[i + 1].start for i in range(len(tokens) - 1)):
            raise LatexError(f"a name cannot contain spaces: '{source.strip()}'")
        reader.names.symbols.add(spelled)
        return spelled
    probe = Names(symbols=set(), families=set(reader.names.families))
    parser = Parser(tokens, probe, source)
    name = parser._symbol_name()
    if parser.at_char("_") and _is_index(reader, parser.tokens[parser.pos + 1 :]):
        reader.names.families.add(name)
        return name
    if parser.at_char("_"):
        parser.next()
        name = f"{name}_{{{parser._subscript_text()}}}"
    if not parser.done():
        raise LatexError(f"cannot declare '{source.strip()}': expected a name")
    reader.names.symbols.add(name)
    return name


def _is_index(reader: _Reader, rest: list[Tok]) -> bool:
    """`x_i` declares a family when its subscript is one letter declared as an integer."""
    inner = [t for t in rest if not (t.kind == "char" and t.value in "{}")]
    if len(inner) != 1:
        return False
    domain = reader.domains.get(inner[0].text)
    return domain is not None and domain.integer


def _split_relations(tokens: list[Tok]) -> list[tuple[str, list[Tok]]]:
    """Split `a < b \\le c` into [("", a), ("<", b), ("<=", c)]."""
    parts: list[tuple[str, list[Tok]]] = [("", [])]
    depth = 0
    for token in tokens:
        depth += depth_change(token)
        relation = _relation(token)
        if depth == 0 and relation:
            parts.append((relation, []))
        else:
            parts[-1][1].append(token)
    return parts


def _relation(token: Tok) -> str | None:
    if token.kind == "char" and token.value in "=<>":
        return RELATIONS[token.value]
    if token.kind == "cmd" and token.value in RELATIONS:
        return RELATIONS[token.value]
    return None


def _set_domain(reader: _Reader, tokens: list[Tok], source: str) -> Domain:
    """\\mathbb{R}, \\mathbb{Z}_{\\ge 0}, (0, 1), [0, 1), \\{0, 1, \\dots, n\\}."""
    tokens = significant(tokens)
    if tokens and tokens[0].kind == "bb":
        return _number_set(tokens, source)
    if len(tokens) >= 2 and tokens[0].text == "\\{" and tokens[-1].text == "\\}":
        return _listed_range(reader, tokens[1:-1], source)
    if len(tokens) >= 2 and tokens[0].value in "([" and tokens[-1].value in ")]":
        ends = split_top_level(tokens[1:-1], lambda t: t.kind == "char" and t.value == ",")
        if len(ends) == 2:
            lower, upper = (_bound(reader, part, source) for part in ends)
            return Domain(False, lower, upper, tokens[0].value == "(", tokens[-1].value == ")")
    raise LatexError(
        f"unknown set in '{source.strip()}': use \\mathbb{{R}}, (a, b), \\{{0, \\dots, n\\}}"
    )


def _number_set(tokens: list[Tok], source: str) -> Domain:
    letter = tokens[0].value
    rest = "".join(t.text for t in tokens[1:]).replace("{", "").replace("}", "")
    if letter == "R" and not rest:
        return Domain()
    if letter == "Z" and not rest:
        return Domain(True)
    bounded = re.fullmatch(r"_(\\geq?|>)(-?\d+)", rest)
    if letter == "Z" and bounded:
        bound = int(bounded.group(2)) + (1 if bounded.group(1) == ">" else 0)
        return Domain(True, Num(Fraction(bound)))
    if letter == "N":
        raise LatexError(
            "\\mathbb{N} starts at 0 for some readers and at 1 for others: "
            "write \\mathbb{Z}_{\\ge 0} or \\mathbb{Z}_{>0}"
        )
    raise LatexError(f"unknown set in '{source.strip()}'")


def _listed_range(reader: _Reader, tokens: list[Tok], source: str) -> Domain:
    items = split_top_level(tokens, lambda t: t.kind == "char" and t.value == ",")
    is_dots = [len(item) == 1 and item[0].kind == "cmd" and item[0].value in DOTS for item in items]
    if not any(is_dots) and all(len(item) == 1 and item[0].kind == "num" for item in items):
        is_dots = [False] * len(items)  # \{0, 1\}: consecutive integers listed in full
    elif not any(is_dots) or is_dots[0]:
        raise LatexError(f"write an integer range like \\{{0, 1, \\dots, n\\}}: '{source.strip()}'")
    listed = [item for item, dots in zip(items, is_dots, strict=True) if not dots]
    values = [_bound(reader, item, source) for item in listed]
    leading = is_dots.index(True) if any(is_dots) else len(values)  # 0, 1, then \dots: steps of 1
    _check_steps(values[:leading], source)
    upper = None if is_dots[-1] else values[-1]
    return Domain(True, values[0], upper)


def _check_steps(values: list[Expr | None], source: str) -> None:
    numbers = [v.value for v in values if isinstance(v, Num)]
    if any(b - a != 1 for a, b in itertools.pairwise(numbers)) or any(
        n.denominator != 1 for n in numbers
    ):
        raise LatexError(f"the listed values must be consecutive integers: '{source.strip()}'")


def _bound(reader: _Reader, tokens: list[Tok], source: str) -> Expr | None:
    expr = _parse(reader, tokens, source)
    if isinstance(expr, Infinity) or (isinstance(expr, Neg) and isinstance(expr.operand, Infinity)):
        return None
    return expr


def _inequality_domain(reader: _Reader, parts: list[tuple[str, list[Tok]]], source: str) -> None:
    """`\\lambda > 0`, `0 < p < 1`, `0 \\le k \\le n`: bounds on one name."""
    relations = [rel for rel, _ in parts[1:]]
    if not (set(relations) <= {"<", "<=", ">", ">="}):
        raise LatexError(f"cannot read a domain from '{source.strip()}'")
    if len(parts) == 2:
        name = _declared_name(reader, parts[0][1], source)
        _narrow(reader, name, relations[0], _bound(reader, parts[1][1], source))
        return
    if len(parts) == 3 and relations[0] in ("<", "<=") and relations[1] in ("<", "<="):
        name = _declared_name(reader, parts[1][1], source)
        lower = _bound(reader, parts[0][1], source)
        _narrow(reader, name, ">" if relations[0] == "<" else ">=", lower)
        _narrow(reader, name, relations[1], _bound(reader, parts[2][1], source))
        return
    raise LatexError(f"cannot read a domain from '{source.strip()}'")


def _narrow(reader: _Reader, name: str, rel: str, bound: Expr | None) -> None:
    domain = reader.domains.get(name, Domain())
    if rel in (">", ">="):
        domain = replace(domain, lower=bound, lower_open=rel == ">")
    else:
        domain = replace(domain, upper=bound, upper_open=rel == "<")
    reader.domains[name] = domain


def _let(reader: _Reader, text: str) -> None:
    """`let P(A) = a`: notation that expands to an expression wherever it appears.

    `let f(x) = ...` with x a declared variable defines a function: `f(2)`, `f'(x)`."""
    parts = _split_relations(tokenize(text))
    if len(parts) != 2 or parts[1][0] != "=":
        raise LatexError("write `let <notation> = <expression>`")
    left = significant(parts[0][1])
    function = _function_head(reader, left)
    if function is not None:
        head, var = function
        reader.names.functions[key(head)] = (var, _parse(reader, parts[1][1], text))
        reader.lets.append((key(head), text.partition("=")[0].strip()))
        return
    reader.names.notation[key(left)] = _parse(reader, parts[1][1], text)
    reader.lets.append((key(left), text.partition("=")[0].strip()))


def _function_head(reader: _Reader, left: list[Tok]) -> tuple[list[Tok], str] | None:
    """`f(x)` or `\\sigma(z)` with a declared variable in the brackets: (head, variable)."""
    if len(left) < 4 or left[-1].text != ")" or left[-3].text != "(":
        return None
    name = left[-2].text
    if name not in reader.names.symbols:
        return None
    head = left[:-3]
    if not head or any(t.kind == "char" and t.value not in "_{}" for t in head):
        return None  # f, \\sigma or L_\\delta; not P(X = x) or \\varphi(z - 2.5)
    return head, name


def _parse(reader: _Reader, tokens: list[Tok], source: str) -> Expr:
    return parse_tokens(tokens, reader.names, source)


# --- the displayed formula --------------------------------------------------------------------


def _formula(reader: _Reader, latex: str) -> None:
    statements = [s for s in split_top_level(tokenize(latex), is_separator) if s]
    statements = [_strip_trailing_comma(s) for s in statements]
    conditions = [s for s in statements if _is_condition(reader, s, statements)]
    for statement in conditions:
        _condition(reader, statement, latex)
    for statement in statements:
        if statement not in conditions:
            _statement(reader, statement, latex)


def _strip_trailing_comma(tokens: list[Tok]) -> list[Tok]:
    return (
        tokens[:-1] if tokens and tokens[-1].kind == "char" and tokens[-1].value == "," else tokens
    )


def _is_condition(reader: _Reader, tokens: list[Tok], statements: list[list[Tok]]) -> bool:
    """`k = 0, 1, \\dots`, `x \\in S`, `(i \\ne j)`, or `0 \\le k \\le n` on plain names."""
    if tokens[0].text == "(" and _closes_at_end(tokens):
        return True
    parts = _split_relations(tokens)
    relations = [rel for rel, _ in parts[1:]]
    if relations == ["in"]:
        return True
    if relations == ["="]:  # k = 0, 1, \\dots, n: a list (a_1 + \\dots + a_n is a sum)
        return len(split_top_level(parts[1][1], lambda t: t.kind == "char" and t.value == ",")) > 1
    defined = {key(s[: _first_equals(s)]) for s in statements if _first_equals(s)}
    plain = all(_plain(part) for _, part in parts) and not any(
        key(part) in defined or key(part) in reader.names.notation for _, part in parts
    )
    return bool(relations) and set(relations) <= {"<", "<=", ">", ">="} and plain


def _closes_at_end(tokens: list[Tok]) -> bool:
    """Whether the bracket opening `tokens` closes at its end: `(i \\ne j)`, not `(a)^2 = (b)`."""
    depth = 0
    for index, token in enumerate(tokens):
        depth += depth_change(token)
        if depth == 0:
            return index == len(tokens) - 1
    return False


def _first_equals(tokens: list[Tok]) -> int:
    parts = _split_relations(tokens)
    if len(parts) > 1 and parts[1][0] == "=":
        return len(parts[0][1])
    return 0


def _plain(tokens: list[Tok]) -> bool:
    """A lone number or name (`-1`, `k`, `\\sigma_X`), as opposed to an expression."""
    tokens = significant(tokens)
    if tokens and tokens[0].text == "-":
        tokens = tokens[1:]
    if len(tokens) == 1:
        return tokens[0].kind != "char"
    named = tokens[0].kind == "letter" or (tokens[0].kind == "cmd" and tokens[0].value in GREEK)
    if len(tokens) < 3 or not named or tokens[1].text != "_":
        return False
    if len(tokens) == 3:
        return True
    depths = list(itertools.accumulate(depth_change(t) for t in tokens[2:]))
    return tokens[2].text == "{" and 0 not in depths[:-1] and depths[-1] == 0  # one group


def _condition(reader: _Reader, tokens: list[Tok], source: str) -> None:
    if tokens[0].text == "(" and tokens[-1].text == ")":
        return  # a side remark like (i \ne j): the symbols' domains already say it
    parts = _split_relations(tokens)
    relations = [rel for rel, _ in parts[1:]]
    if relations == ["in"]:
        name = _declared_name(reader, parts[0][1], source)
        _merge(reader, name, _set_domain(reader, parts[1][1], source))
    elif relations == ["="]:
        name = _declared_name(reader, parts[0][1], source)
        _merge(reader, name, _listed_range(reader, parts[1][1], source))
    else:
        _inequality_domain(reader, parts, source)


def _merge(reader: _Reader, name: str, domain: Domain) -> None:
    old = reader.domains.get(name)
    if old is not None and old.integer != domain.integer:
        raise LatexError(f"'{name}' is declared both as an integer and as a real number")
    reader.domains[name] = domain


def _statement(reader: _Reader, tokens: list[Tok], source: str) -> None:
    parts = _split_relations(tokens)
    if len(parts) == 1:
        raise LatexError(
            f"'{_spelled(tokens, source)}' states nothing to check: "
            "a statement needs =, \\le, <, \\approx"
        )
    exprs: list[Expr] = []
    first, rest = parts[0][1], parts[1:]
    if rest[0][0] == "=" and _is_notation(reader, first, source):
        exprs.append(_parse(reader, rest[0][1], source))
        reader.names.notation[key(first)] = exprs[0]
        reader.defined.append((key(first), _spelled(first, source)))
        if reader.subject is None:
            reader.subject_key = key(first)
        rest = rest[1:]
    else:
        exprs.append(_parse(reader, first, source))
    if reader.subject is None:
        reader.subject = exprs[0]
    for relation, part in rest:
        if relation in ("in", "!="):
            raise LatexError(f"'{_spelled(part, source)}': deckgen checks =, <, \\le, \\approx")
        text = _spelled(tokens, source)
        if relation == "sim":
            reader.claims.append(_distributed(reader, exprs[-1], _spelled(part, source), text))
            break
        value = _parse(reader, part, source)
        reader.claims.append(Claim("holds", reader.loc, text, exprs[-1], value, relation))
        exprs.append(value)


def _is_notation(reader: _Reader, tokens: list[Tok], source: str) -> bool:
    """The left side of `=` is notation when it is not an expression of declared symbols."""
    try:
        _parse(reader, tokens, source)
    except Undeclared:
        return True
    return False


def _spelled(tokens: list[Tok], source: str) -> str:
    return source[tokens[0].start : tokens[-1].end].strip() if tokens else ""


# --- claim lines ------------------------------------------------------------------------------


def _claim_line(reader: _Reader, text: str, loc: SourceLoc) -> None:
    match = _LINE.fullmatch(text)
    if match is None or match.group("kind") not in CLAIM_KINDS:
        known = ", ".join(CLAIM_KINDS)
        raise LatexError(f"unknown verify line '{text}': expected where, let or one of {known}")
    kind, var_text, body = match.group("kind", "var", "text")
    var = _var(reader, var_text, kind) if kind in NEEDS_VAR else None
    if var_text and kind not in NEEDS_VAR:
        raise LatexError(f"'{kind}' takes no variable: write `{kind}: ...`")
    claim = Claim(kind, loc, body.strip(), var=var)
    if kind in NEEDS_DISTRIBUTION:
        claim = replace(_with_distribution(reader, claim, kind), param=var)
    if kind == "dist":
        reader.claims.append(replace(claim, distribution=_distribution(reader, body)))
        return
    if kind == "holds":
        _holds(reader, body, loc)
        return
    value = _parse(reader, tokenize(body), body)
    if kind in ("pmf", "pdf"):
        claim = replace(claim, subject=value, value=Num(Fraction(1)))
        reader.distribution = claim
    else:
        claim = replace(claim, subject=claim.subject or _subject(reader), value=value)
    reader.claims.append(claim)


def _var(reader: _Reader, text: str | None, kind: str) -> str:
    if not text:
        raise LatexError(f"'{kind}' needs its variable, like `{kind} x: ...`")
    parser = Parser(tokenize(text), reader.names, text)
    expr = parser.expression()
    if not isinstance(expr, Sym) or not parser.done():
        raise LatexError(f"'{text}' is not a declared variable")
    if kind == "pmf" and not reader.domains.get(expr.name, Domain()).integer:
        raise LatexError(f"the pmf's variable '{text}' must range over integers")
    return expr.name


def _with_distribution(reader: _Reader, claim: Claim, kind: str) -> Claim:
    pmf = reader.distribution
    if pmf is None:
        raise LatexError(f"'{kind}' needs a `pmf` or `pdf` line before it")
    return replace(claim, subject=pmf.subject, var=pmf.var, pmf_kind=pmf.kind)


def _subject(reader: _Reader) -> Expr:
    """What value/derivative/max claims are about: the first statement's expression."""
    if reader.subject is None:
        raise LatexError("the formula has no expression for this claim to be about")
    if reader.subject_key is not None:  # a claim about `G = ...` uses G
        reader.names.used.add(reader.subject_key)
    return reader.subject


def _distribution(reader: _Reader, text: str) -> tuple[str, tuple[Expr, ...]]:
    match = _DIST.fullmatch(text.strip())
    if match is None:
        raise LatexError(r"write the distribution like Poisson(\lambda)")
    written, params = match.group(1) or match.group(2), match.group(3)
    name = ALIASES.get(written, written)
    if name not in DISTRIBUTIONS:
        known = ", ".join([*DISTRIBUTIONS, *ALIASES])
        raise LatexError(f"unknown distribution '{written}': known are {known}")
    args = split_top_level(tokenize(params), lambda t: t.kind == "char" and t.value == ",")
    if len(args) != DISTRIBUTIONS[name]:
        raise LatexError(f"{written} takes {DISTRIBUTIONS[name]} parameter(s)")
    values = tuple(_parse(reader, arg, text) for arg in args)
    if written == "N":  # N(mu, sigma^2): sympy.stats wants the standard deviation
        values = (values[0], Call("root", (values[1], Num(Fraction(2)))))
    return name, values


def _distributed(reader: _Reader, subject: Expr, dist: str, text: str) -> Claim:
    """`X + Y \\sim \\text{Poisson}(\\lambda + \\mu)`: checked by characteristic functions."""
    if not reader.randoms:
        raise LatexError(f"'{text}': declare the random variables, like `where X \\sim N(0, 1)`")
    claim = Claim("holds", reader.loc, text, subject, None, "sim")
    return replace(claim, distribution=_distribution(reader, dist))


def _holds(reader: _Reader, body: str, loc: SourceLoc) -> None:
    parts = _split_relations(tokenize(body))
    if len(parts) < 2:
        raise LatexError(f"'{body}' states nothing: a `holds` line needs =, \\le, <, \\approx")
    exprs = [_parse(reader, parts[0][1], body)]
    if len(parts) == 2 and parts[1][0] == "sim":
        reader.loc = loc
        reader.claims.append(_distributed(reader, exprs[0], _spelled(parts[1][1], body), body))
        return
    for relation, tokens in parts[1:]:
        if relation in ("in", "!=", "sim"):
            raise LatexError(f"'{body}': deckgen checks =, <, \\le, \\approx")
        exprs.append(_parse(reader, tokens, body))
        reader.claims.append(Claim("holds", loc, body, exprs[-2], exprs[-1], relation))
