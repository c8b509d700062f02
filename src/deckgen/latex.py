"""LaTeX math to a small expression tree, accepting only what deckgen can check.

SymPy's own LaTeX parsers guess: `TP` becomes `T*P`, `np(1-p)` a function `p`, an unknown
`lambda` six symbols. This parser never guesses. Every symbol must be declared, every command
must be one it knows, and anything else is an error naming the offending text. It builds plain
dataclasses, never strings for `sympify`, so no card text is ever evaluated.
"""

from __future__ import annotations

import dataclasses
import itertools
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from fractions import Fraction

# Limits that keep hostile input from reaching SymPy at all.
MAX_DIGITS = 30
MAX_DEPTH = 60

GREEK = frozenset({
    "alpha", "beta", "gamma", "delta", "epsilon", "varepsilon", "zeta", "eta", "theta",
    "vartheta", "iota", "kappa", "lambda", "mu", "nu", "xi", "pi", "rho", "varrho", "sigma",
    "tau", "upsilon", "phi", "varphi", "chi", "psi", "omega", "Gamma", "Delta", "Theta",
    "Lambda", "Xi", "Pi", "Sigma", "Upsilon", "Phi", "Psi", "Omega",
})  # fmt: skip
ACCENTS = frozenset({"hat", "bar", "tilde", "overline", "widehat", "widetilde"})
FRACS = frozenset({"frac", "dfrac", "tfrac"})
FUNCTIONS = {"exp": "exp", "log": "log", "ln": "log", "sin": "sin", "cos": "cos", "tan": "tan"}
NAMED_FUNCTIONS = {"max": "max", "min": "min"}
# special functions, called with brackets: \Gamma(x), \Phi(z) (the standard normal CDF), unless
# the Greek letter is declared as a symbol; \operatorname{erf}(x), \mathrm{B}(a, b) (Beta)
SPECIAL_GREEK = {"Gamma": "gamma", "Phi": "Phi"}
SPECIAL_NAMES = {"erf": "erf", "erfc": "erfc", "B": "beta"}
RELATIONS = {
    "=": "=",
    "<": "<",
    ">": ">",
    "le": "<=",
    "leq": "<=",
    "leqslant": "<=",
    "ge": ">=",
    "geq": ">=",
    "geqslant": ">=",
    "ne": "!=",
    "neq": "!=",
    "approx": "~",
    "in": "in",
    "sim": "sim",
}
DOTS = frozenset({"dots", "ldots", "cdots"})
SKIPPED = frozenset({
    ",", ";", ":", "!", " ", "quad", "qquad", "left", "right", "big", "Big", "bigg", "Bigg",
    "bigl", "bigr", "Bigl", "Bigr", "biggl", "biggr", "middle", "displaystyle", "textstyle",
    "limits", "nolimits",
})  # fmt: skip
SEPARATORS = frozenset({"quad", "qquad"})
NAME_COMMANDS = frozenset({"text", "textrm", "mathrm", "operatorname", "textit", "mathit"})


class LatexError(Exception):
    """The formula uses something deckgen cannot read; the message quotes it."""


class Undeclared(LatexError):
    """A name that no `where` or `let` line declares."""


@dataclass(frozen=True)
class Tok:
    """One LaTeX token: kind is cmd, num, letter, char, name (\\text{..}) or bb (\\mathbb{..})."""

    kind: str
    value: str
    start: int
    end: int

    @property
    def text(self) -> str:
        prefix = {"cmd": "\\", "name": "\\text:", "bb": "\\mathbb:"}.get(self.kind, "")
        return prefix + self.value


_TOKEN = re.compile(
    r"(?P<space>\s+)|(?P<comment>(?<!\\)%[^\n]*)|\\(?P<cmd>[A-Za-z]+|.)|(?P<num>\d+(?:\.\d+)?)"
    r"|(?P<letter>[A-Za-z])|(?P<char>.)",
    re.DOTALL,
)


def tokenize(latex: str) -> list[Tok]:
    """Split LaTeX math into tokens, reading \\text{..}, \\operatorname{..}, \\mathbb{..} whole."""
    tokens: list[Tok] = []
    pos = 0
    while pos < len(latex):
        match = _TOKEN.match(latex, pos)
        assert match is not None  # the last alternative matches any character
        kind = match.lastgroup or "char"
        pos = match.end()
        if kind in ("space", "comment"):
            continue
        value = match.group(kind)
        if kind == "cmd" and value in NAME_COMMANDS | {"mathbb"}:
            body, pos = _braced_raw(latex, pos, value)
            kind, value = ("bb" if value == "mathbb" else "name"), body.strip()
        tokens.append(Tok(kind, value, match.start(), pos))
    return tokens


def _braced_raw(latex: str, pos: int, command: str) -> tuple[str, int]:
    match = re.compile(r"\s*\{([^{}]*)\}").match(latex, pos)
    if match is None:
        raise LatexError(f"\\{command} needs its text in braces, like \\{command}{{Var}}")
    return match.group(1), match.end()


def significant(tokens: Sequence[Tok]) -> list[Tok]:
    """Drop spacing and sizing commands, which never change the meaning."""
    return [t for t in tokens if not (t.kind == "cmd" and t.value in SKIPPED - SEPARATORS)]


def key(tokens: Sequence[Tok]) -> tuple[str, ...]:
    """Return the meaning-bearing spelling of tokens, for matching notation."""
    return tuple(t.text for t in significant(tokens) if not is_separator(t))


def is_separator(token: Tok) -> bool:
    """\\quad or \\qquad: what separates the statements of a formula."""
    return token.kind == "cmd" and token.value in SEPARATORS


# --- the expression tree -------------------------------------------------------------------


@dataclass(frozen=True)
class Num:
    value: Fraction
    decimal: str | None = None  # the digits as written, for \approx


@dataclass(frozen=True)
class Sym:
    name: str


@dataclass(frozen=True)
class Idx:
    family: str
    index: Expr


@dataclass(frozen=True)
class Add:
    terms: tuple[Expr, ...]


@dataclass(frozen=True)
class Mul:
    factors: tuple[Expr, ...]


@dataclass(frozen=True)
class Div:
    numerator: Expr
    denominator: Expr


@dataclass(frozen=True)
class Neg:
    operand: Expr


@dataclass(frozen=True)
class Pow:
    base: Expr
    exponent: Expr


@dataclass(frozen=True)
class Call:
    """A built-in function: exp, log (with a base: two arguments), sin, cos, tan, sqrt, abs, max,
    min, factorial, binom, root, floor, ceil."""

    function: str
    args: tuple[Expr, ...]


@dataclass(frozen=True)
class Big:
    """A sum, product or integral of `body` over `var` between bounds (None: var's domain)."""

    operator: str
    var: str
    lower: Expr | None
    upper: Expr | None
    body: Expr


@dataclass(frozen=True)
class Infinity:
    pass


@dataclass(frozen=True)
class Const:
    """e or \\pi, unless a `where` line declares the letter as a variable."""

    name: str


@dataclass(frozen=True)
class Deriv:
    """The derivative of `body` with respect to `var`: `\\frac{dJ}{dp}`, `\\frac{d}{dx} f`."""

    body: Expr
    var: str


@dataclass(frozen=True)
class At:
    """`body` with `var` set to `value`: a function defined by `let f(x) = ...`, applied."""

    body: Expr
    var: str
    value: Expr


Expr = Num | Sym | Idx | Add | Mul | Div | Neg | Pow | Call | Big | Infinity | Const | Deriv | At
_IF = {"if", "for", "when", "where", ""}  # words before a condition in \\begin{cases}
_OTHERWISE = {"otherwise", "else", "elsewhere"}
MAX_DERIVATIVE = 20  # f^{(20)}: higher orders are refused, as huge numbers are
ELLIPSIS_INDEX = "\\text:i"  # the index of a sum written a_1 + \dots + a_n
CONSTANTS = ("e", "\\pi")


# --- what the parser needs to know ------------------------------------------------------------


@dataclass
class Names:
    """The symbols, indexed families and notation a formula may use."""

    symbols: set[str] = field(default_factory=set)
    families: set[str] = field(default_factory=set)
    notation: dict[tuple[str, ...], Expr] = field(default_factory=dict)
    functions: dict[tuple[str, ...], tuple[str, Expr]] = field(default_factory=dict)  # f: (x, body)
    randoms: set[str] = field(default_factory=set)  # random variables: `where X \\sim ...`
    used: set[tuple[str, ...]] = field(default_factory=set)

    def multi_letter(self) -> list[str]:
        return sorted((s for s in self.symbols | self.families if plain_word(s)), key=len)[::-1]


def plain_word(name: str) -> bool:
    """A name of several plain letters, like TP."""
    return len(name) > 1 and name.isalpha()


# \lvert x \rvert, \lfloor x \rfloor, \lceil x \rceil: the function and the closing command
_DELIMITED = {"lvert": ("abs", "rvert"), "lfloor": ("floor", "rfloor"), "lceil": ("ceil", "rceil")}
# commands that end a term: what closes a bracket, a binomial's \choose
_ENDS_A_TERM = {
    "cdot", "times", "mid", "rvert", "rbrace", "rfloor", "rceil", "choose", "}", "\\", "end",
}  # fmt: skip


class Parser:
    """Recursive descent over tokens; `names` decides what a letter or a phrase means."""

    def __init__(self, tokens: Sequence[Tok], names: Names, source: str) -> None:
        self.tokens = significant(tokens)
        self.names = names
        self.source = source
        self.pos = 0
        self.depth = 0
        self.integral_vars: list[str] = []
        self.bound_vars: list[str] = []
        self.in_bars = 0  # inside |..|: a bar closes, it does not open another

    # token helpers
    def peek(self, offset: int = 0) -> Tok | None:
        index = self.pos + offset
        return self.tokens[index] if index < len(self.tokens) else None

    def at(self, kind: str, value: str | None = None, offset: int = 0) -> bool:
        token = self.peek(offset)
        return token is not None and token.kind == kind and (value is None or token.value == value)

    def at_char(self, *chars: str) -> bool:
        token = self.peek()
        return token is not None and token.kind == "char" and token.value in chars

    def next(self) -> Tok:
        token = self.peek()
        if token is None:
            raise LatexError(f"'{self.source.strip()}' ends too early")
        self.pos += 1
        return token

    def expect_char(self, char: str) -> None:
        token = self.next()
        if token.kind != "char" or token.value != char:
            raise LatexError(f"expected '{char}' but found {self.quote(token)}")

    def quote(self, token: Tok) -> str:
        return f"'{self.source[token.start : token.end]}'"

    def done(self) -> bool:
        return self.pos >= len(self.tokens)

    # grammar
    def expression(self) -> Expr:
        """expr := [+-] term (('+'|'-') term)*"""
        self.depth += 1
        if self.depth > MAX_DEPTH:
            raise LatexError(f"formula nests deeper than {MAX_DEPTH} levels")
        try:
            terms: list[Expr] = []
            sign = self._sign()
            terms.append(self._signed(self.term(), sign))
            while self.at_char("+", "-"):
                if self._at_ellipsis("+"):  # a_1 + \dots + a_n
                    self.pos += 3
                    terms[-1] = self._ellipsis("sum", terms[-1], self.term())
                    continue
                sign = self._sign()
                terms.append(self._signed(self.term(), sign))
            return terms[0] if len(terms) == 1 else Add(tuple(terms))
        finally:
            self.depth -= 1

    def _at_ellipsis(self, joint: str) -> bool:
        """`+ \\dots +` (or `\\cdot \\dots \\cdot`, `\\times \\cdots \\times`) just ahead."""
        ahead = [self.peek(i) for i in range(3)]
        if any(t is None for t in ahead):
            return False
        first, dots, last = (t.text for t in ahead if t is not None)
        return first == last == joint and dots.lstrip("\\") in DOTS

    def _ellipsis(self, operator: str, first: Expr, last: Expr) -> Expr:
        """`a_1 + \\dots + a_n` as the sum of a_i for i from 1 to n (a product likewise)."""
        if not (isinstance(first, Idx) and isinstance(last, Idx) and first.family == last.family):
            raise LatexError(
                "an ellipsis runs between two terms of one family, like a_1 + \\dots + a_n"
            )
        return Big(
            operator,
            ELLIPSIS_INDEX,
            first.index,
            last.index,
            Idx(first.family, Sym(ELLIPSIS_INDEX)),
        )

    def _sign(self) -> int:
        sign = 1
        while self.at_char("+", "-"):
            sign = -sign if self.next().value == "-" else sign
        return sign

    @staticmethod
    def _signed(expr: Expr, sign: int) -> Expr:
        return Neg(expr) if sign < 0 else expr

    def term(self, *, big_body: bool = False) -> Expr:
        """term := factor ((\\cdot | \\times | * | / | juxtaposition) factor)*

        In the body of a sum or product, another \\sum or \\prod after the first factor starts
        a new factor of the outer term: `\\prod_i a_i \\prod_i b_i` is a product of two products.
        """
        factors = [self.factor()]
        while not self.done():
            if big_body and self.at("cmd") and self.peek().value in ("sum", "prod"):  # type: ignore[union-attr]
                break
            joint = next((j for j in ("\\cdot", "\\times") if self._at_ellipsis(j)), None)
            if joint is not None or self.at("cmd", "cdots"):
                self.pos += 3 if joint is not None else 1  # a_1 \cdots a_n
                factors[-1] = self._ellipsis("prod", factors[-1], self.factor())
            elif self.at("cmd", "cdot") or self.at("cmd", "times") or self.at_char("*"):
                self.next()
                factors.append(self.factor())
            elif self.at_char("/"):
                self.next()
                factors[-1] = Div(factors[-1], self.factor())
            elif self._starts_factor():
                factors.append(self.factor())
            else:
                break
        return factors[0] if len(factors) == 1 else Mul(tuple(factors))

    def _starts_factor(self) -> bool:
        token = self.peek()
        if token is None or self._at_differential():
            return False
        if token.kind in ("num", "letter", "name", "bb"):
            return True
        if token.kind == "char":
            return token.value in "([{" or (token.value == "|" and not self.in_bars)
        return token.value not in set(RELATIONS) | SEPARATORS | DOTS | _ENDS_A_TERM

    def factor(self) -> Expr:
        """factor := primary postfix*, postfix := ! | ^group"""
        base = self.primary()
        while True:
            if self.at_char("!"):
                self.next()
                base = Call("factorial", (base,))
            elif self.at_char("^"):
                self.next()
                base = Pow(base, self.group_arg())
            else:
                return base

    def group_arg(self) -> Expr:
        """The argument of ^, _ or a command: a braced expression or a single token."""
        if self.at_char("{"):
            self.next()
            inner = self.expression()
            self.expect_char("}")
            return inner
        token = self.peek()
        if token is not None and token.kind == "num" and len(token.value) > 1:
            raise LatexError(f"write braces around the multi-digit exponent {self.quote(token)}")
        return self.primary(bare=True)

    def primary(self, bare: bool = False) -> Expr:
        notation = None if bare else self._notation()
        if notation is not None:
            return notation
        applied = None if bare else self._applied()
        if applied is not None:
            return applied
        token = self.peek()
        if token is None:
            raise LatexError(f"'{self.source.strip()}' ends too early")
        if token.kind == "num":
            return self._number(self.next())
        special = self._special(token)
        if special is not None:
            return self._function(special)
        operator = self._operator(token)
        if operator is not None:
            return self._moment(operator)
        if (token.kind == "bb" and token.value == "1") or (token.kind, token.value) == (
            "cmd",
            "mathbf",
        ):
            return self._indicator()
        if token.kind == "char" and token.value in "([{":
            return self._bracketed()
        if token.kind == "char" and token.value == "|":
            self.next()
            self.in_bars += 1
            try:
                inner = self.expression()
            finally:
                self.in_bars -= 1
            self.expect_char("|")
            return Call("abs", (inner,))
        if token.kind == "cmd":
            return self._command()
        return self._symbol()

    def _special(self, token: Tok) -> str | None:
        """The special function called here: `\\Gamma(`, `\\operatorname{erf}(`, else None."""
        if not self._called():
            return None
        if token.kind == "cmd" and token.value in SPECIAL_GREEK:
            return None if token.text in self.names.symbols else SPECIAL_GREEK[token.value]
        return SPECIAL_NAMES.get(token.value) if token.kind == "name" else None

    def _operator(self, token: Tok) -> str | None:
        """`\\mathbb{E}[`, `\\operatorname{Var}(`, `Cov(`, `P(`, applied to random variables."""
        following = self.peek(1)
        if not self.names.randoms or following is None or following.text not in ("(", "["):
            return None
        if token.kind == "bb" and token.value == "E":
            return "E"
        if token.kind == "name" and token.value in ("E", "Var", "Cov"):
            return token.value
        if token.kind == "letter" and token.value == "P" and "P" not in self.names.symbols:
            return "P"
        return None

    def _moment(self, operator: str) -> Expr:
        """E[X^2], Var(2X + 1), Cov(X, Y), P(X \\le 2): of declared random variables."""
        self.next()
        closing = {"(": ")", "[": "]"}[self.next().value]
        args = [self._condition_chain() if operator == "P" else self.expression()]
        while operator == "Cov" and self.at_char(","):
            self.next()
            args.append(self.expression())
        self.expect_char(closing)
        if len(args) != (2 if operator == "Cov" else 1):
            raise LatexError("Cov takes two arguments, like \\operatorname{Cov}(X, Y)")
        if not any(name in self.names.randoms for arg in args for name in names_in(arg)):
            raise Undeclared(f"'{operator}' needs a random variable: declare one like X \\sim ...")
        return Call(operator, tuple(args))

    def _called(self) -> bool:
        following = self.peek(1)
        return following is not None and following.kind == "char" and following.value == "("

    def _indicator(self) -> Expr:
        """`\\mathbb{1}_{x > 0}`, `\\mathbf{1}\\{a \\le x < b\\}`: 1 where it holds, else 0."""
        if self.next().kind == "cmd":  # \mathbf{1}
            self.expect_char("{")
            if self.next().text != "1":
                raise LatexError("an indicator is written \\mathbf{1} or \\mathbb{1}")
            self.expect_char("}")
        if self.at_char("_"):
            self.next()
            self.expect_char("{")
            condition = self._condition_chain()
            self.expect_char("}")
        elif self.at("cmd", "{"):
            self.next()
            condition = self._condition_chain()
            if not self.at("cmd", "}"):
                raise LatexError("the condition of an indicator ends with \\}")
            self.next()
        else:
            raise LatexError(
                "write an indicator like \\mathbb{1}_{x > 0} or \\mathbf{1}\\{x > 0\\}"
            )
        return condition

    def _condition_chain(self) -> Expr:
        """`a < x \\le b` inside an indicator, as a product of one indicator per relation."""
        sides = [self.expression()]
        relations: list[str] = []
        while (relation := self._relation_here()) is not None:
            relations.append(relation)
            sides.append(self.expression())
        if not relations:
            raise LatexError("an indicator needs a condition, like \\mathbb{1}_{x > 0}")
        factors = tuple(
            Call(f"1{rel}", (left, right))
            for rel, left, right in zip(relations, sides, sides[1:], strict=False)
        )
        return factors[0] if len(factors) == 1 else Mul(factors)

    def _relation_here(self) -> str | None:
        token = self.peek()
        if token is None or token.kind not in ("char", "cmd"):
            return None
        relation = RELATIONS.get(token.value)
        if (
            relation is None
            or relation in ("in", "~", "sim")
            or (token.kind == "char") != (token.value in "=<>")
        ):
            return None
        self.next()
        return relation

    def _bracketed(self) -> Expr:
        opening = self.next().value
        closing = {"(": ")", "[": "]", "{": "}"}[opening]
        inner = self.expression()
        if opening == "{" and self.at("cmd", "choose"):  # {n \choose k}
            self.next()
            inner = Call("binom", (inner, self.expression()))
        self.expect_char(closing)
        return inner

    def _number(self, token: Tok) -> Num:
        digits = token.value.replace(".", "")
        if len(digits) > MAX_DIGITS:
            raise LatexError(f"number {self.quote(token)} has more than {MAX_DIGITS} digits")
        decimal = token.value if "." in token.value else None
        following = self.peek()
        if following is not None and following.kind == "cmd" and following.value == "%":
            self.next()  # 16.7\% is 0.167, to as many places (for \approx)
            places = len(token.value.partition(".")[2]) + 2
            return Num(
                Fraction(token.value) / 100, format(Decimal(token.value) / 100, f".{places}f")
            )
        return Num(Fraction(token.value), decimal)

    def _notation(self) -> Expr | None:
        """Match the longest declared notation (`P(X = k)`, `\\mathbb{E}[X]`) at this point."""
        keys = key(self.tokens[self.pos :])
        best: tuple[tuple[str, ...], Expr] | None = None
        for pattern, meaning in self.names.notation.items():
            # `n` is not the start of `n_L`: a subscript goes on naming something else
            whole = keys[len(pattern) : len(pattern) + 1] != ("_",)
            longer = best is None or len(pattern) > len(best[0])
            if keys[: len(pattern)] == pattern and whole and longer:
                best = (pattern, meaning)
        if best is None:
            return None
        self.names.used.add(best[0])
        self.pos += len(best[0])
        return best[1]

    def _applied(self) -> Expr | None:
        """A function of `let f(x) = ...` applied, `f(2)`, or differentiated, `f'(x)`, `f''(0)`,
        `f^{(3)}(0)`."""
        keys = key(self.tokens[self.pos :])
        for head, (var, body) in self.names.functions.items():
            after = keys[len(head) :]
            primes = len(after) - len(tuple(itertools.dropwhile(lambda t: t == "'", after)))
            marks = primes
            order = after[:6]  # ^ { ( 3 ) }: the third derivative
            if order[:3] == ("^", "{", "(") and order[4:] == (")", "}") and order[3].isdigit():
                primes, marks = int(order[3]), 6
            if primes > MAX_DERIVATIVE:
                raise LatexError(f"a derivative of order {primes} is too high to check")
            if keys[: len(head)] == head and after[marks : marks + 1] == ("(",):
                self.names.used.add(head)
                self.pos += len(head) + marks
                self.expect_char("(")
                value = self.expression()
                self.expect_char(")")
                for _ in range(primes):
                    body = Deriv(body, var)
                return At(body, var, value)
        return None

    def _derivative(self) -> Expr | None:
        """`\\frac{dJ}{dp}` or `\\frac{d}{dx} f` (also with \\partial, or `d\\hat{y}`), for a
        declared variable."""
        ahead = [t.text for t in self.tokens[self.pos + 1 : self.pos + 3]]
        if len(ahead) < 2 or ahead[0] != "{" or ahead[1] not in ("d", "\\partial"):
            return None
        if ahead[1] == "d" and "d" in self.names.symbols:
            return None
        top_end = self._group_end(self.pos + 1)
        bottom_end = self._group_end(top_end + 1)
        bottom = self.tokens[top_end + 1 : bottom_end + 1]
        if len(bottom) < 4 or bottom[0].text != "{" or bottom[1].text != ahead[1]:
            return None
        var = Parser(bottom[2:-1], self.names, self.source)._symbol()
        if not isinstance(var, Sym):
            return None
        self.pos += 3  # \frac { d
        body: Expr | None = None if self.at_char("}") else self.expression()
        self.expect_char("}")
        self.pos = bottom_end + 1  # past { d x }
        return Deriv(self.factor() if body is None else body, var.name)

    def _group_end(self, start: int) -> int:
        """The index of the token closing the group that opens at `start` (the last if none)."""
        depth = 0
        for end in range(start, len(self.tokens)):
            depth += depth_change(self.tokens[end])
            if depth == 0:
                return end
        return len(self.tokens) - 1

    def _command(self) -> Expr:
        token = self.peek()
        assert token is not None
        name = token.value
        if name in FRACS and (derivative := self._derivative()) is not None:
            return derivative
        if name in FRACS | {"binom"}:
            self.next()
            first, second = self.group_arg(), self.group_arg()
            return Div(first, second) if name in FRACS else Call("binom", (first, second))
        if name == "sqrt":
            return self._sqrt()
        if name in FUNCTIONS or name in NAMED_FUNCTIONS:
            return self._function(FUNCTIONS.get(name) or NAMED_FUNCTIONS[name])
        if name == "lim":
            return self._limit()
        if name == "begin":
            return self._cases()
        if name in ("sum", "prod", "int"):
            return self._big(name)
        if name == "infty":
            self.next()
            return Infinity()
        if name in _DELIMITED:
            function, closing = _DELIMITED[name]
            self.next()
            inner = self.expression()
            if not self.at("cmd", closing):
                raise LatexError(f"\\{name} needs a matching \\{closing}")
            self.next()
            return Call(function, (inner,))
        if name in GREEK or name in ACCENTS:
            return self._symbol()
        raise LatexError(f"deckgen cannot check \\{name} in a formula")

    def _sqrt(self) -> Expr:
        self.next()
        degree: Expr = Num(Fraction(2))
        if self.at_char("["):
            self.next()
            degree = self.expression()
            self.expect_char("]")
        return Call("root", (self.group_arg(), degree))

    def _function(self, function: str) -> Expr:
        self.next()
        power = base = None
        if function == "log" and self.at_char("_"):  # \log_2 x
            self.next()
            base = self.group_arg()
        if self.at_char("^"):  # \log^2 x
            self.next()
            power = self.group_arg()
        if self.at_char("("):
            self.next()
            args = [self.expression()]
            while self.at_char(","):
                self.next()
                args.append(self.expression())
            self.expect_char(")")
        else:
            args = [self.factor()]
        if base is not None and len(args) == 1:
            args.append(base)
        call = Call(function, tuple(args))
        return Pow(call, power) if power is not None else call

    def _big(self, operator: str) -> Expr:
        self.next()
        var, lower, upper = "", None, None
        if self.at_char("^"):  # \sum^n_{i=1}: the limits in either order
            self.next()
            upper = self.group_arg()
        if self.at_char("_"):
            self.next()
            var, lower = self._big_lower(operator)
        if upper is None and self.at_char("^"):
            self.next()
            upper = self.group_arg()
        if operator == "int":
            return self._integral(lower, upper)
        if not var:
            raise LatexError(f"\\{operator} needs its index, like \\{operator}_{{i=1}}^n")
        body = self._bound_body(var, lambda: self.term(big_body=True))
        return Big(operator, var, lower, upper, body)

    def _cases(self) -> Expr:
        """`\\begin{cases} x & \\text{if } x > 0 \\\\ 0 & \\text{otherwise} \\end{cases}`: the first
        row whose condition holds."""
        self.next()
        if self._environment() != "cases":
            raise LatexError("deckgen reads \\begin{cases} only (no matrices)")
        args: list[Expr] = []
        while not self.at("cmd", "end"):
            args.append(self.expression())
            while self.at_char(","):  # `x, & x > 0`
                self.next()
            self.expect_char("&")
            while self.at_char(",") or (self.at("name") and self.peek().value.strip() in _IF):  # type: ignore[union-attr]
                self.next()
            if self.at("name") and self.peek().value.strip() in _OTHERWISE:  # type: ignore[union-attr]
                self.next()
                args.append(Num(Fraction(1)))
            else:
                args.append(self._condition_chain())
            if self.at("cmd", "\\"):
                self.next()
        self.next()
        if self._environment() != "cases" or not args:
            raise LatexError("\\begin{cases} needs its rows and \\end{cases}")
        return Call("cases", tuple(args))

    def _environment(self) -> str:
        self.expect_char("{")
        name = ""
        while not self.at_char("}"):
            name += self.next().text
        self.next()
        return name

    def _limit(self) -> Expr:
        """`\\lim_{n \\to \\infty} body`: the limit of body as the variable approaches a value."""
        self.next()
        self.expect_char("_")
        self.expect_char("{")
        var = self._symbol_name()
        if not (self.at("cmd", "to") or self.at("cmd", "rightarrow")):
            raise LatexError("write a limit like \\lim_{n \\to \\infty}")
        self.next()
        value = self.expression()
        self.expect_char("}")
        body = self._bound_body(var, self.term)
        return Big("lim", var, value, None, body)

    def _big_lower(self, operator: str) -> tuple[str, Expr | None]:
        if operator == "int":
            return "", self.group_arg()
        braced = self.at_char("{")
        if braced:
            self.next()
        var = self._symbol_name()
        lower = None
        if self.at_char("="):
            self.next()
            lower = self.expression()
        if braced:
            self.expect_char("}")
        return var, lower

    def _integral(self, lower: Expr | None, upper: Expr | None) -> Expr:
        """\\int_a^b body dx: the first `d<symbol>` ahead names the variable and ends the body."""
        ahead = range(self.pos, len(self.tokens))
        index = next((i for i in ahead if self._differential_at(i)), None)
        if index is None:
            raise LatexError("an integral needs its differential, like \\int_0^1 f(x)\\,dx")
        var = self._differential_var(index)
        self.integral_vars.append(var)
        try:
            body = self._bound_body(var, self.expression)
            if not self._at_differential():
                raise LatexError("the integrand must end with its differential, like dx")
        finally:
            self.integral_vars.pop()
        self.pos += 2
        return Big("int", var, lower, upper, body)

    def _differential_at(self, index: int) -> bool:
        if index + 1 >= len(self.tokens):
            return False
        first, second = self.tokens[index], self.tokens[index + 1]
        is_d = first.kind in ("letter", "name") and first.value == "d"
        names_var = second.kind == "letter" or (second.kind == "cmd" and second.value in GREEK)
        return is_d and names_var

    def _differential_var(self, index: int) -> str:
        return self.tokens[index + 1].text

    def _at_differential(self) -> bool:
        return (
            bool(self.integral_vars)
            and self._differential_at(self.pos)
            and self._differential_var(self.pos) == self.integral_vars[-1]
        )

    def _bound_body(self, var: str, parse: Callable[[], Expr]) -> Expr:
        """Parse the body of a sum, product or integral, where its variable is declared."""
        declared = var in self.names.symbols
        self.names.symbols.add(var)
        self.bound_vars.append(var)
        try:
            return parse()
        finally:
            self.bound_vars.pop()
            if not declared:
                self.names.symbols.discard(var)

    def _symbol(self) -> Expr:
        name = self._symbol_name()
        if self.at_char("_") and name in self.names.families:
            self.next()
            return Idx(name, self.group_arg())
        if self.at_char("_"):
            self.next()
            subscript = self._subscript_text()
            if subscript in self.bound_vars:
                raise LatexError(
                    f"'{name}_{subscript}' runs over {subscript}: declare the family in the "
                    f"`where` line after its index, like `{subscript} \\in \\{{1, \\dots, n\\}}, "
                    f"{name}_{subscript} \\in \\mathbb{{R}}`"
                )
            name = f"{name}_{{{subscript}}}"
        if name in self.names.families:
            raise LatexError(f"'{name}' needs its index, like {name}_i")
        if name in CONSTANTS and name not in self.names.symbols:
            return Const(name)
        if name not in self.names.symbols:
            raise Undeclared(self._undeclared(name))
        return Sym(name)

    def _subscript_text(self) -> str:
        """A subscript that is part of a name (sigma_X, H_0, rho_{XY}), as canonical text."""
        if not self.at_char("{"):
            return self.next().text
        self.next()
        parts = []
        while not self.at_char("}"):
            parts.append(self.next().text)
        self.next()
        return "".join(parts)

    def _symbol_name(self) -> str:
        token = self.next()
        if token.kind == "letter":
            return self._word(token)
        if token.kind in ("name", "bb"):
            return token.text
        if token.kind == "cmd" and token.value in GREEK:
            return token.text
        if token.kind == "cmd" and token.value in ACCENTS:
            inner = self._accent_body()
            return f"\\{token.value}{{{inner}}}"
        raise LatexError(f"unexpected {self.quote(token)}")

    def _accent_body(self) -> str:
        if not self.at_char("{"):
            return self._symbol_name()
        self.next()
        inner = self._symbol_name()
        self.expect_char("}")
        return inner

    def _word(self, first: Tok) -> str:
        """A declared multi-letter name (TP, FP) if the letters spell one, else one letter."""
        run = [first]
        while (
            (token := self.peek(len(run) - 1)) is not None
            and token.kind == "letter"
            and (token.start == run[-1].end)
        ):
            run.append(token)
        spelled = "".join(t.value for t in run)
        for name in self.names.multi_letter():
            if spelled.startswith(name):
                self.pos += len(name) - 1
                return name
        if spelled in GREEK and spelled not in self.names.symbols:
            raise LatexError(f"'{spelled}' is not declared: write \\{spelled} for the Greek letter")
        return first.value

    def _undeclared(self, name: str) -> str:
        return f"'{name}' is not declared: add it to a `where` line with its domain"


def names_in(expr: Expr) -> set[str]:
    """The symbol names an expression uses."""
    if isinstance(expr, Sym):
        return {expr.name}
    found: set[str] = set()
    for value in vars(expr).values():
        items = value if isinstance(value, tuple) else (value,)
        for item in items:
            if dataclasses.is_dataclass(item):
                found |= names_in(item)  # type: ignore[arg-type]
    return found


def parse_tokens(tokens: Sequence[Tok], names: Names, source: str) -> Expr:
    """Parse tokens that must form one whole expression; raise LatexError on anything else."""
    parser = Parser(tokens, names, source)
    expr = parser.expression()
    if not parser.done():
        token = parser.peek()
        assert token is not None
        raise LatexError(f"unexpected {parser.quote(token)} in '{source.strip()}'")
    return expr


def split_top_level(tokens: Sequence[Tok], is_split: Callable[[Tok], bool]) -> list[list[Tok]]:
    """Split tokens where `is_split` holds outside any brackets or braces."""
    parts: list[list[Tok]] = [[]]
    depth = 0
    for token in tokens:
        depth += depth_change(token)
        if depth == 0 and is_split(token):
            parts.append([])
        else:
            parts[-1].append(token)
    return parts


def depth_change(token: Tok) -> int:
    """+1 for an opening bracket, brace, \\lvert or \\begin, -1 for a closing one, else 0."""
    if token.value in ("(", "[", "{", "lvert", "begin") and token.kind in ("char", "cmd"):
        return 1
    if token.value in (")", "]", "}", "rvert", "end") and token.kind in ("char", "cmd"):
        return -1
    return 0
