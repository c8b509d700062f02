"""Plot declarations: a ```` ```plot ```` block of YAML in a card, checked into a Plot record.

A plot of a distribution right under a verified formula draws that formula; elsewhere it names a
built-in distribution, itself a formula with a verify block (checked by the tests like any card).
"""

from __future__ import annotations

import hashlib
import json
import math
from collections.abc import Callable
from dataclasses import dataclass
from fractions import Fraction
from functools import cache
from importlib.metadata import version
from pathlib import Path
from typing import Any

import yaml

from deckgen.claims import Domain, Spec, read_spec
from deckgen.errors import Problem, SourceLoc, quote
from deckgen.latex import Add, Div, Expr, Mul, Neg, Num, Sym
from deckgen.sources import yaml_document

MAX_SERIES = 6
MAX_DRAWS = 10_000_000  # random numbers a simulated plot may hold
MAX_PARAMETER = 1000  # |value| of a distribution parameter: plots of larger ones say nothing new

# name -> (LaTeX, verify block); tests check these blocks exactly as `deckgen verify` checks cards
BUILTIN: dict[str, tuple[str, tuple[str, ...]]] = {
    "poisson": (
        r"P(X = k) = \frac{\lambda^k e^{-\lambda}}{k!}, \qquad k = 0, 1, 2, \dots",
        (r"where \lambda > 0", "pmf k: P(X = k)", r"mean: \lambda", r"variance: \lambda"),
    ),
    "binomial": (
        r"P(X = k) = \binom{n}{k} p^k (1-p)^{n-k}, \qquad k = 0, 1, \dots, n",
        (
            r"where n \in \mathbb{Z}_{>0}, p \in [0, 1]",
            "pmf k: P(X = k)",
            "mean: np",
            "variance: np(1-p)",
        ),
    ),
    "geometric": (
        r"P(X = k) = (1-p)^{k-1} p, \qquad k = 1, 2, \dots",
        (
            r"where p \in (0, 1]",
            "pmf k: P(X = k)",
            r"mean: \frac{1}{p}",
            r"variance: \frac{1-p}{p^2}",
        ),
    ),
    "normal": (
        r"f(x) = \frac{1}{\sigma\sqrt{2\pi}} \exp\left(-\frac{(x-\mu)^2}{2\sigma^2}\right), "
        r"\qquad x \in \mathbb{R}",
        (
            r"where \mu \in \mathbb{R}, \sigma > 0",
            "pdf x: f(x)",
            r"mean: \mu",
            r"variance: \sigma^2",
        ),
    ),
    "exponential": (
        r"f(x) = \lambda e^{-\lambda x}, \qquad x \ge 0",
        (
            r"where \lambda > 0",
            "pdf x: f(x)",
            r"mean: \frac{1}{\lambda}",
            r"variance: \frac{1}{\lambda^2}",
        ),
    ),
    "uniform": (
        r"f(x) = \frac{1}{b - a}, \qquad a \le x \le b",
        (
            r"where a \in \mathbb{R}, b > a",
            "pdf x: f(x)",
            r"mean: \frac{a + b}{2}",
            r"variance: \frac{(b - a)^2}{12}",
        ),
    ),
}
BUILTIN_LOC = SourceLoc(Path("<deckgen built-in>"), 1)


class _Bad(Exception):
    """An option's value is wrong; the message says why."""


Check = Callable[[Any], Any]


def number(
    low: float | None = None,
    high: float | None = None,
    *,
    integer: bool = False,
    low_open: bool = False,
) -> Check:
    """Accept one number within bounds (an integer if asked)."""

    def check(value: Any) -> Any:
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise _Bad(f"must be a number, not {_show(value)}")
        if not math.isfinite(value):
            raise _Bad(f"must be a finite number, not {_show(value)}")
        if integer and not isinstance(value, int):
            raise _Bad(f"must be a whole number, not {_show(value)}")
        if low is not None and (value < low or (low_open and value == low)):
            raise _Bad(f"must be {'>' if low_open else '≥'} {low}, not {_show(value)}")
        if high is not None and value > high:
            raise _Bad(f"must be ≤ {high}, not {_show(value)}")
        return value

    return check


def choice(*names: str) -> Check:
    def check(value: Any) -> Any:
        if value not in names:
            raise _Bad(f"must be one of {', '.join(names)}, not {_show(value)}")
        return value

    return check


def listing(item: Check, most: int = MAX_SERIES) -> Check:
    """Accept one value or a list of up to `most` values; always give a list."""

    def check(value: Any) -> Any:
        values = value if isinstance(value, list) else [value]
        if not values or len(values) > most:
            raise _Bad(f"must list 1 to {most} values, not {len(values)}")
        return [item(v) for v in values]

    return check


def interval(low: float = -MAX_PARAMETER, high: float = MAX_PARAMETER) -> Check:
    def check(value: Any) -> Any:
        if not (isinstance(value, list) and len(value) == 2):
            raise _Bad(f"must be [from, to], not {_show(value)}")
        ends = [number(low, high)(end) for end in value]
        if ends[0] >= ends[1]:
            raise _Bad(f"must run from a smaller to a larger number, not {_show(value)}")
        return ends

    return check


def point(low: float = -MAX_PARAMETER, high: float = MAX_PARAMETER) -> Check:
    def check(value: Any) -> Any:
        if not (isinstance(value, list) and len(value) == 2):
            raise _Bad(f"must be a point [x, y], not {_show(value)}")
        return [number(low, high)(coordinate) for coordinate in value]

    return check


def flag(value: Any) -> Any:
    if not isinstance(value, bool):
        raise _Bad(f"must be true or false, not {_show(value)}")
    return value


def text(value: Any) -> Any:
    if not isinstance(value, str) or not value.strip():
        raise _Bad("must be some text")
    return value.strip()


SEED = number(0, 2**32 - 1, integer=True)
ACTIVATIONS = ("sigmoid", "tanh", "relu", "leaky-relu", "gelu", "silu")
OPTIMIZERS = ("sgd", "momentum", "nesterov", "adagrad", "rmsprop", "adam")
SCHEDULES = ("constant", "step", "exponential", "cosine", "warmup-cosine")
LOSSES = ("zero-one", "hinge", "logistic", "squared-hinge", "exponential")
DISTRIBUTION_KINDS = ("pmf", "pdf", "cdf")
# kind -> option -> (check, default); a default of None means the option is optional
OPTIONS: dict[str, dict[str, tuple[Check, Any]]] = {
    "pmf": {"layout": (choice("overlay", "panels"), "overlay"), "range": (interval(), None)},
    "pdf": {
        "layout": (choice("overlay", "panels"), "overlay"),
        "range": (interval(), None),
        "bands": (flag, False),
    },
    "cdf": {"layout": (choice("overlay", "panels"), "overlay"), "range": (interval(), None)},
    "long-tail": {
        "tail": (choice("lognormal", "pareto"), "lognormal"),
        "shape": (number(0.2, 10, low_open=True), None),
    },
    "clt": {
        "sizes": (listing(number(1, 1000, integer=True)), [1, 2, 5, 30]),
        "samples": (number(100, 100_000, integer=True), 20_000),
        "seed": (SEED, 0),
    },
    "ci-coverage": {
        "intervals": (number(10, 300, integer=True), 100),
        "level": (number(0.5, 0.999, low_open=True), 0.95),
        "n": (number(2, 10_000, integer=True), 25),
        "seed": (SEED, 0),
    },
    "roc": {"separation": (listing(number(0, 6)), [0.5, 1, 2])},
    "activations": {
        "functions": (listing(choice(*ACTIVATIONS), 6), list(ACTIVATIONS[:4])),
        "slope": (number(0, 0.5, low_open=True), 0.1),
        "range": (interval(-50, 50), [-4, 4]),
        "derivatives": (flag, False),
    },
    "bias-variance": {
        "degrees": (interval(0, 15), [0, 12]),
        "points": (number(5, 1000, integer=True), 30),
        "noise": (number(0, 5, low_open=True), 0.3),
        "repeats": (number(1, 500, integer=True), 100),
        "seed": (SEED, 0),
    },
    "impurity": {"scaled": (flag, False)},
    "losses": {
        "losses": (listing(choice(*LOSSES), 5), ["zero-one", "hinge", "logistic"]),
        "range": (interval(-10, 10), [-2, 3]),
    },
    "penalty-regions": {
        "estimate": (point(-10, 10), [0.6, 1.8]),
        "budget": (number(0.1, 10), 1.0),
        "correlation": (number(-0.9, 0.9), 0.5),
    },
    "tree-partition": {
        "depth": (number(1, 6, integer=True), 3),
        "points": (number(10, 2000, integer=True), 120),
        "noise": (number(0, 0.5), 0.05),
        "seed": (SEED, 0),
    },
    "knn": {
        "k": (listing(number(1, 99, integer=True), 4), [1, 15]),
        "points": (number(10, 400, integer=True), 100),
        "seed": (SEED, 0),
    },
    "svm-margin": {
        "points": (number(4, 200, integer=True), 30),
        "separation": (number(0, 20, low_open=True), 4.0),
        "seed": (SEED, 0),
    },
    "pr-roc": {
        "separation": (number(0, 6), 1.5),
        "prevalence": (listing(number(0.001, 0.999), 4), [0.5, 0.1, 0.01]),
    },
    "distance-concentration": {
        "dimensions": (listing(number(1, 2000, integer=True), 5), [2, 10, 100, 1000]),
        "points": (number(10, 500, integer=True), 200),
        "seed": (SEED, 0),
    },
    "gradient-descent": {
        "methods": (
            listing(choice("batch", "mini-batch", "stochastic"), 3),
            ["batch", "stochastic"],
        ),
        "steps": (number(1, 500, integer=True), 40),
        "rate": (number(0, 1, low_open=True), 0.05),
        "batch": (number(2, 1000, integer=True), 10),
        "points": (number(10, 1000, integer=True), 100),
        "start": (point(-10, 10), [-1.0, -1.0]),
        "seed": (SEED, 0),
    },
    "reliability": {
        "temperatures": (listing(number(0.1, 10), 4), [0.5, 1, 2]),
        "bins": (number(2, 50, integer=True), 10),
        "points": (number(100, 100_000, integer=True), 5000),
        "seed": (SEED, 0),
    },
    "pca": {
        "correlation": (number(-0.99, 0.99), 0.8),
        "ratio": (number(0.1, 10), 1.0),
        "points": (number(10, 2000, integer=True), 200),
        "seed": (SEED, 0),
    },
    "kmeans": {
        "k": (number(1, 6, integer=True), 3),
        "clusters": (number(1, 6, integer=True), 3),
        "show": (listing(number(0, 50, integer=True), 4), [0, 1, 2, 10]),
        "init": (choice("random", "k-means++"), "random"),
        "points": (number(10, 2000, integer=True), 150),
        "seed": (SEED, 0),
    },
    "lr-schedules": {
        "schedules": (listing(choice(*SCHEDULES), 5), ["step", "cosine", "warmup-cosine"]),
        "steps": (number(10, 100_000, integer=True), 1000),
        "rate": (number(0, 10, low_open=True), 0.1),
        "warmup": (number(0, 0.5), 0.05),
    },
    "optimizers": {
        "methods": (listing(choice(*OPTIMIZERS), 6), ["sgd", "momentum", "nesterov", "adam"]),
        "condition": (number(1, 1000), 20),
        "steps": (number(1, 1000, integer=True), 50),
        "rate": (number(0, 2, low_open=True), 0.025),
        "adaptive_rate": (number(0, 2, low_open=True), 0.3),
        "start": (point(-10, 10), [-4.0, 1.5]),
    },
    "vanishing-gradients": {
        "functions": (listing(choice(*ACTIVATIONS), 6), ["sigmoid", "tanh", "relu"]),
        "init": (choice("matched", "Xavier", "He", "standard"), "matched"),
        "depth": (number(2, 100, integer=True), 30),
        "width": (number(10, 500, integer=True), 100),
        "seed": (SEED, 0),
    },
    "batch-statistics": {
        # one size's batches are drawn at once: at most 1,000 x 10,000 = 10 million numbers
        "sizes": (listing(number(2, 1000, integer=True), 10), [2, 4, 8, 16, 32, 64, 128]),
        "batches": (number(100, 10_000, integer=True), 2000),
        "seed": (SEED, 0),
    },
}
COMMON: dict[str, tuple[Check, Any]] = {"caption": (text, None)}


@dataclass(frozen=True)
class Plot:
    """One declared figure: its kind, checked options, and the formula it draws (if any)."""

    kind: str
    loc: SourceLoc
    options: str  # canonical JSON of the checked options, parameters included
    formula: tuple[str, tuple[str, ...]] | None = None  # LaTeX and verify lines
    caption: str = ""

    @property
    def settings(self) -> dict[str, Any]:
        loaded: dict[str, Any] = json.loads(self.options)
        return loaded

    @property
    def key(self) -> str:
        """Name the figure by everything that decides its pixels, and nothing else."""
        content = json.dumps([self.kind, self.options, self.formula, engine()])
        return hashlib.sha256(content.encode()).hexdigest()[:16]

    def media_name(self, night: bool = False) -> str:
        """The name the note's HTML gives the drawing until the package names it by its pixels:
        from what the card asks for alone, so that a rendering kept from an earlier build (by a
        different drawing engine) still names the right drawing."""
        asked = hashlib.sha256(json.dumps([self.kind, self.options, self.formula]).encode())
        return f"deckgen-plot-{asked.hexdigest()[:16]}{'-night' if night else ''}.png"

    def spec(self) -> Spec:
        """Return the checked formula this plot draws."""
        assert self.formula is not None
        latex, lines = self.formula
        spec, problems = read_spec(latex, BUILTIN_LOC, [(line, BUILTIN_LOC) for line in lines])
        assert spec is not None, problems  # declare() read it already
        return spec


# What draws: options and formulas are in the key already, so plotspec.py itself is not here.
# The files that decide how a plot looks (not plots.py: its caching does not change a picture).
_ENGINE_FILES = ("charts.py", "symbolic.py")


@cache
def engine() -> str:
    """Fingerprint the drawing code and libraries: a new deckgen may draw a plot differently."""
    here = Path(__file__).parent
    sources = [(here / name).read_bytes() for name in _ENGINE_FILES]
    sources += [version(package).encode() for package in ("matplotlib", "numpy", "sympy")]
    return hashlib.sha256(b"\0".join(sources)).hexdigest()[:16]


@dataclass(frozen=True)
class Formula:
    """A display formula with its verify block, as found right above a plot."""

    latex: str
    lines: tuple[str, ...]


def declare(
    source: str, loc: SourceLoc, formula: Formula | None
) -> tuple[Plot | None, list[Problem]]:
    """Read a plot block (YAML, first line at `loc`); return the plot or what is wrong with it."""
    try:
        entries = _entries(source, loc)
    except _Located as err:
        return None, [Problem(err.loc, err.message)]
    reader = _Reader(loc, entries)
    plot = reader.read(formula)
    return (None if reader.problems else plot), reader.problems


class _Located(Exception):
    def __init__(self, loc: SourceLoc, message: str) -> None:
        super().__init__(message)
        self.loc, self.message = loc, message


def _entries(source: str, loc: SourceLoc) -> dict[str, tuple[Any, SourceLoc]]:
    """Parse the block with PyYAML's safe loader, keeping each key's line."""
    try:
        node, values = yaml_document(source)
    except yaml.YAMLError as err:
        mark = getattr(err, "problem_mark", None)
        last = max(len(source.splitlines()) - 1, 0)  # "unexpected end" marks the line after
        where = loc.at(min(mark.line, last)) if mark is not None else loc
        reason = getattr(err, "problem", None) or "not valid YAML"
        hint = "; put text that contains ': ' in quotes" if "mapping values" in reason else ""
        raise _Located(where, f"plot block is not valid YAML: {reason}{hint}") from None
    if not isinstance(node, yaml.MappingNode) or not isinstance(values, dict):
        raise _Located(loc, "plot block must be lines of `option: value`, starting with `kind:`")
    entries: dict[str, tuple[Any, SourceLoc]] = {}
    # the loader refuses repeated keys and merges: the nodes and the values pair up in order
    for (key_node, _), (key, value) in zip(node.value, values.items(), strict=True):
        entries[str(key)] = (value, loc.at(key_node.start_mark.line))
    return entries


class _Reader:
    """Checks one block's options against its kind, collecting every problem."""

    def __init__(self, loc: SourceLoc, entries: dict[str, tuple[Any, SourceLoc]]) -> None:
        self.loc, self.entries = loc, entries
        self.problems: list[Problem] = []

    def read(self, formula: Formula | None) -> Plot | None:
        kind, kind_loc = self.entries.pop("kind", (None, self.loc))
        if not isinstance(kind, str) or kind not in OPTIONS:
            message = f"plot needs a kind, one of {', '.join(OPTIONS)}; got {_show(kind)}"
            self._problem(kind_loc, message)
            return None
        lines = {name: where for name, (_, where) in self.entries.items()}
        options = {**COMMON, **OPTIONS[kind]}
        drawn = self._distribution(kind, formula) if kind in DISTRIBUTION_KINDS else None
        if kind in DISTRIBUTION_KINDS and drawn is None:
            return None  # the parameters cannot be checked without the formula
        settings = {
            name: self._option(name, check, default) for name, (check, default) in options.items()
        }
        if drawn is not None:
            settings["series"] = self._parameters(drawn[1], kind_loc)
            self._check_discrete_range(drawn[1], settings.get("range"), lines)
        for name, (_, where) in self.entries.items():
            self._problem(
                where, f"'{name}' is not an option of a {kind} plot ({_options(options)})"
            )
        for name, message in _conflicts(kind, settings):
            self._problem(lines.get(name, kind_loc), message)
        caption = settings.pop("caption") or ""
        latex = (drawn[0].latex, drawn[0].lines) if drawn else None
        return Plot(kind, self.loc, json.dumps(settings, sort_keys=True), latex, caption)

    def _check_discrete_range(
        self, spec: Spec, span: list[float] | None, lines: dict[str, SourceLoc]
    ) -> None:
        """A pmf is drawn at whole numbers: its range must hold at least one."""
        if span and distribution_claim(spec).kind == "pmf" and math.ceil(span[0]) > span[1]:
            self._problem(lines.get("range", self.loc), "plot option 'range' holds no whole number")

    def _option(self, name: str, check: Check, default: Any) -> Any:
        if name not in self.entries:
            return default
        value, where = self.entries.pop(name)
        try:
            return check(value)
        except _Bad as err:
            self._problem(where, f"plot option '{name}' {err}")
            return default

    def _problem(self, loc: SourceLoc, message: str) -> None:
        self.problems.append(Problem(loc, message))

    def _distribution(self, kind: str, formula: Formula | None) -> tuple[Formula, Spec] | None:
        """Find the formula to draw: the verified one above the block, or a built-in one."""
        named, where = self.entries.pop("distribution", (None, self.loc))
        if formula is not None and named is not None:
            self._problem(where, "this plot draws the formula above it: remove 'distribution'")
            return None
        if formula is None and named not in BUILTIN:
            hint = f"put it under a verified formula or name one of {', '.join(BUILTIN)}"
            self._problem(where, f"a {kind} plot needs a distribution: {hint}; got {_show(named)}")
            return None
        drawn = formula or Formula(BUILTIN[named][0], BUILTIN[named][1])
        spec = _spec(drawn)
        # a formula that cannot be read is reported by the verify step, not twice
        return (drawn, spec) if spec is not None and self._draws(kind, spec) else None

    def _draws(self, kind: str, spec: Spec) -> bool:
        """Say whether the formula has what a plot of this kind needs, reporting what it lacks."""
        kinds = {claim.kind for claim in spec.claims} & {"pmf", "pdf"}
        wanted = {"pmf": {"pmf"}, "pdf": {"pdf"}, "cdf": {"pmf", "pdf"}}[kind]
        if not kinds & wanted:
            claim = " or ".join(f"`{k} x:`" for k in sorted(wanted))
            self._problem(self.loc, f"a {kind} plot draws a formula with a {claim} claim")
            return False
        moments = {claim.kind for claim in spec.claims} >= {"mean", "variance"}
        if "pdf" in kinds and not moments and "range" not in self.entries:
            message = "give the plot a range: [from, to] (the formula claims no mean and variance)"
            self._problem(self.loc, message)
            return False
        return True

    def _parameters(self, spec: Spec, kind_loc: SourceLoc) -> list[dict[str, str]]:
        """Take the formula's parameters from the block: one series per listed value."""
        variable = distribution_claim(spec).var
        names = [n for n in spec.domains if n != variable and n not in spec.families]
        given = {n: self.entries.pop(plain(n)) for n in names if plain(n) in self.entries}
        missing = [plain(n) for n in names if n not in given]
        if missing:
            self._problem(
                kind_loc,
                f"plot needs a value for {', '.join(missing)}: "
                f"the formula's parameters are {', '.join(plain(n) for n in names)}",
            )
            return []
        return self._series(spec, given)

    def _series(self, spec: Spec, given: dict[str, tuple[Any, SourceLoc]]) -> list[dict[str, str]]:
        lists = {name: v if isinstance(v, list) else [v] for name, (v, _) in given.items()}
        count = max((len(values) for values in lists.values()), default=1)
        for name, values in lists.items():
            if not values:
                self._problem(given[name][1], f"plot parameter '{plain(name)}' lists no values")
                return []
            if len(values) not in (1, count) or count > MAX_SERIES:
                self._problem(
                    given[name][1],
                    f"plot parameter '{plain(name)}' lists "
                    f"{len(values)} values: give one, or {min(count, MAX_SERIES)} like the others",
                )
                return []
        series = [{n: v[i % len(v)] for n, v in lists.items()} for i in range(count)]
        checked = [self._in_domain(spec, one, given) for one in series]
        return [one for one in checked if one is not None]

    def _in_domain(
        self, spec: Spec, values: dict[str, Any], given: dict[str, tuple[Any, SourceLoc]]
    ) -> dict[str, str] | None:
        exact: dict[str, Fraction] = {}
        for name, value in values.items():
            try:
                exact[name] = _exact(value)
            except _Bad as err:
                self._problem(given[name][1], f"plot parameter '{plain(name)}' {err}")
                return None
        for name in values:
            reason = outside(spec.domains[name], name, exact)
            if reason:
                self._problem(given[name][1], f"plot parameter {reason}")
                return None
        return {name: str(value) for name, value in exact.items()}


def _conflicts(kind: str, settings: dict[str, Any]) -> list[tuple[str, str]]:
    """Problems between options that are each fine on their own: (option, message)."""
    found = []
    if kind == "long-tail" and settings["tail"] == "pareto" and (settings["shape"] or 3) <= 2:
        # the plot compares with the normal of the same mean and SD: they must be finite
        found.append(("shape", "a Pareto tail needs shape > 2 (a finite variance to compare)"))
    if kind == "clt" and settings["samples"] * max(settings["sizes"]) > MAX_DRAWS:
        # every draw is held in memory at once: 10 million take 80 MB
        most = MAX_DRAWS // max(settings["sizes"])
        found.append(
            (
                "samples",
                f"plot option 'samples' with sizes up to {max(settings['sizes'])}: at most {most}",
            )
        )
    if kind == "bias-variance" and settings["degrees"][1] > settings["points"] - 2:
        most = settings["points"] - 2
        found.append(("degrees", f"with {settings['points']} points, plot degree at most {most}"))
    if kind == "knn" and max(settings["k"]) > settings["points"]:
        found.append(
            ("k", f"with {settings['points']} points, plot k at most {settings['points']}")
        )
    if kind == "gradient-descent" and settings["batch"] > settings["points"]:
        most = settings["points"]
        found.append(("batch", f"with {most} points, plot option 'batch' at most {most}"))
    return found


def _spec(formula: Formula) -> Spec | None:
    spec, _ = read_spec(formula.latex, BUILTIN_LOC, [(line, BUILTIN_LOC) for line in formula.lines])
    return spec


def distribution_claim(spec: Spec) -> Any:
    """Return the formula's `pmf` or `pdf` claim."""
    return next(claim for claim in spec.claims if claim.kind in ("pmf", "pdf"))


def plain(name: str) -> str:
    """A symbol as the plot block spells it: \\lambda -> lambda."""
    return name.lstrip("\\")


def _exact(value: Any) -> Fraction:
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise _Bad(f"must be a number, not {_show(value)}")
    if not math.isfinite(value) or abs(value) > MAX_PARAMETER:
        raise _Bad(f"= {_show(value)} is too large to plot (at most {MAX_PARAMETER})")
    return Fraction(str(value))


def outside(domain: Domain, name: str, values: dict[str, Fraction]) -> str | None:
    """Say why a value is outside its declared domain, or None when it is inside."""
    value = values[name]
    shown = f"{plain(name)} = {_show_fraction(value)}"
    if domain.integer and value.denominator != 1:
        return f"{shown} must be a whole number"
    low, high = _end(domain.lower, values), _end(domain.upper, values)
    if low is not None and (value < low or (domain.lower_open and value == low)):
        return f"{shown} is out of range: {_needs(name, '>' if domain.lower_open else '≥', low)}"
    if high is not None and (value > high or (domain.upper_open and value == high)):
        return f"{shown} is out of range: {_needs(name, '<' if domain.upper_open else '≤', high)}"
    return None


def _needs(name: str, relation: str, bound: Fraction) -> str:
    return f"the formula needs {plain(name)} {relation} {_show_fraction(bound)}"


def _end(bound: Expr | None, values: dict[str, Fraction]) -> Fraction | None:
    """Evaluate a domain bound (a number or simple arithmetic of other parameters)."""
    if bound is None:
        return None
    if isinstance(bound, Num):
        return bound.value
    if isinstance(bound, Sym):
        return values.get(bound.name)
    if isinstance(bound, Neg):
        inner = _end(bound.operand, values)
        return None if inner is None else -inner
    parts = [_end(part, values) for part in _parts(bound)]
    known = [part for part in parts if part is not None]
    if not parts or len(known) < len(parts):
        return None
    if isinstance(bound, Add):
        return sum(known, Fraction(0))
    if isinstance(bound, Mul):
        return math.prod(known, start=Fraction(1))
    return None if known[1] == 0 else known[0] / known[1]  # a Div: the only kind left


def _parts(bound: Expr) -> tuple[Expr, ...]:
    if isinstance(bound, Add):
        return bound.terms
    if isinstance(bound, Mul):
        return bound.factors
    if isinstance(bound, Div):
        return (bound.numerator, bound.denominator)
    return ()


def _show(value: Any) -> str:
    return quote(json.dumps(value, default=str) if not isinstance(value, str) else repr(value))


def _show_fraction(value: Fraction) -> str:
    return str(value.numerator) if value.denominator == 1 else f"{float(value):g}"


def _options(options: dict[str, Any]) -> str:
    return "options: " + ", ".join(["kind", *options])
