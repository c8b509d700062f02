"""Check one claim with SymPy: exact values at seeded random points, then a proof attempt.

Runs inside a worker process (see verify.py), which a hard time limit can kill.
"""

from __future__ import annotations

import random
import signal
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from fractions import Fraction
from typing import Any

import mpmath
import sympy
from sympy import stats

from deckgen.claims import Claim, Domain, Spec
from deckgen.latex import (
    Add,
    At,
    Big,
    Call,
    Const,
    Deriv,
    Div,
    Expr,
    Idx,
    Infinity,
    Mul,
    Neg,
    Num,
    Pow,
    Sym,
)

POINTS = 12  # random points per claim; the trial found mistakes this way, proofs add assurance
DISTRIBUTION_POINTS = 4  # sums and integrals are slower: fewer points
MAX_EXPONENT = 4096
MAX_FACTORIAL = 2000
EXTREME_SECONDS = 2  # SymPy's maximum of a one-variable formula, part of a max/min check
UNDEFINED_TRIES = 4  # points drawn per point needed, when some land where a side is undefined
PROOF_SECONDS = 0.3  # per claim; proofs SymPy finds at all, it finds fast
_GREEK = {
    "alpha": "α", "beta": "β", "gamma": "γ", "delta": "δ", "epsilon": "ε", "varepsilon": "ε",
    "zeta": "ζ", "eta": "η", "theta": "θ", "vartheta": "ϑ", "iota": "ι", "kappa": "κ",
    "lambda": "λ", "mu": "μ", "nu": "ν", "xi": "ξ", "pi": "π", "rho": "ρ", "varrho": "ϱ",
    "sigma": "σ", "tau": "τ", "upsilon": "υ", "phi": "φ", "varphi": "φ", "chi": "χ",
    "psi": "ψ", "omega": "ω", "Gamma": "Γ", "Delta": "Δ", "Theta": "Θ", "Lambda": "Λ",
    "Xi": "Ξ", "Pi": "Π", "Sigma": "Σ", "Upsilon": "Υ", "Phi": "Φ", "Psi": "Ψ", "Omega": "Ω",
}  # fmt: skip
_ACCENT = {"hat": "\u0302", "widehat": "\u0302", "bar": "\u0304", "overline": "\u0304"}
_ACCENT |= {"tilde": "\u0303", "widetilde": "\u0303"}


class CheckError(Exception):
    """The claim cannot be checked (too large, no domain); the message says why."""


class _OutOfTime(Exception):
    pass


@dataclass(frozen=True)
class Outcome:
    """How a claim fared: proved, numeric (checked at points) or failed, with a message."""

    status: str
    message: str = ""


def pretty(name: str) -> str:
    """`\\lambda` -> λ, `\\sigma_{X}` -> σ_X, `\\bar{x}` -> x̄, for messages."""
    base, _, subscript = name.partition("_")
    for command, mark in _ACCENT.items():
        prefix = f"\\{command}{{"
        if base.startswith(prefix) and base.endswith("}"):
            base = pretty(base[len(prefix) : -1]) + mark
    if base.startswith("\\text:"):
        base = base[len("\\text:") :]
    base = _GREEK.get(base.lstrip("\\"), base) if base.startswith("\\") else base
    return f"{base}_{pretty(subscript.strip('{}'))}" if subscript else base


# --- from the tree to SymPy -------------------------------------------------------------------


class Env:
    """SymPy symbols with assumptions from the declared domains."""

    def __init__(self, spec: Spec) -> None:
        self.domains = dict(spec.domains)
        self.families = spec.families
        self.symbols: dict[str, sympy.Symbol] = {}
        self.names: dict[sympy.Basic, str] = {}
        for name, domain in spec.domains.items():
            if name not in spec.families:
                self.symbol(name, domain)
        self.randoms = dict(spec.randoms)
        self.simplex = spec.simplex
        self.made: dict[str, Any] = {}  # the random variables, made when first used

    def value(self, name: str) -> Any:
        """A declared symbol, or the sympy.stats random variable of that name."""
        if name not in self.randoms:
            return self.symbol(name)
        if name not in self.made:
            self.made[name] = self.distribution(pretty(name), self.randoms[name])
        return self.made[name]

    def distribution(self, label: str, dist: tuple[str, tuple[Expr, ...]]) -> Any:
        name, params = dist
        return getattr(stats, name)(label, *(self.convert(param) for param in params))

    def real(self, name: str) -> sympy.Symbol:
        """A real variable of the check's own, like t of a characteristic function."""
        self.domains[name] = Domain()
        return self.symbol(name, Domain())

    def symbol(self, name: str, domain: Domain | None = None) -> sympy.Symbol:
        if name not in self.symbols:
            domain = domain or self.domains.get(name) or Domain(integer=True)
            made = sympy.Symbol(pretty(name), **_assumptions(domain))
            self.symbols[name] = made
            self.names[made] = name
        return self.symbols[name]

    def convert(self, expr: Expr) -> sympy.Expr:
        """Build the SymPy expression, refusing numbers too large to compute."""
        return _CONVERTERS[type(expr)](self, expr)

    def bounds(self, var: str, lower: Expr | None, upper: Expr | None) -> tuple[Any, Any]:
        domain = self.domains.get(var, Domain(integer=True))
        low = lower if lower is not None else domain.lower
        high = upper if upper is not None else domain.upper
        if low is None and domain.integer and lower is None:
            raise CheckError(f"the range of {pretty(var)} has no lower end")
        low_value = self.convert(low) if low is not None else -sympy.oo
        high_value = self.convert(high) if high is not None else sympy.oo
        return low_value, high_value


def _assumptions(domain: Domain) -> dict[str, bool]:
    found: dict[str, bool] = {"integer": True} if domain.integer else {"real": True}
    if domain.excluded == Num(Fraction(0)):
        found["nonzero"] = True
    lower = domain.lower
    if isinstance(lower, Num) and lower.value > 0:
        found["positive"] = True
    elif isinstance(lower, Num) and lower.value == 0:
        found["positive" if domain.lower_open else "nonnegative"] = True
    return found


def _number(value: sympy.Expr, what: str) -> None:
    if value.is_number and value.is_finite is not False and abs(value) > 10**MAX_EXPONENT:
        raise CheckError(f"{what} is too large to check")


def _pow(env: Env, expr: Pow) -> sympy.Expr:
    base, exponent = env.convert(expr.base), env.convert(expr.exponent)
    growing = base.is_number and base != 0 and abs(base) != 1
    if growing and exponent.is_number and abs(exponent) > MAX_EXPONENT:
        raise CheckError(f"the power {base}^{exponent} is too large to check")
    return base**exponent


_INDICATORS: dict[str, Callable[[Any, Any], Any]] = {
    "1<": sympy.Lt, "1<=": sympy.Le, "1>": sympy.Gt, "1>=": sympy.Ge, "1=": sympy.Eq,
    "1!=": sympy.Ne,
}  # fmt: skip


_MOMENTS: dict[str, Callable[..., Any]] = {
    "E": stats.E, "Var": stats.variance, "Cov": stats.covariance,
    "P": lambda event: stats.P(_event(event)),
}  # fmt: skip


def _event(indicator: sympy.Expr) -> Any:
    """The condition of an indicator (a product of them: all conditions), for P(...)."""
    factors = indicator.args if isinstance(indicator, sympy.Mul) else (indicator,)
    conditions = [f.args[0].cond for f in factors if isinstance(f, sympy.Piecewise)]
    if len(conditions) != len(factors):
        raise CheckError("P(...) needs a condition like X \\le 2")
    return sympy.And(*conditions)


def _cases(args: list[sympy.Expr]) -> sympy.Expr:
    """Rows of (value, condition); a condition is an indicator (1 where it holds) or 1."""
    rows = []
    for value, condition in zip(args[::2], args[1::2], strict=True):
        rows.append((value, sympy.true if condition == 1 else _event(condition)))
    return sympy.Piecewise(*rows, (sympy.nan, True))


def _call(env: Env, expr: Call) -> sympy.Expr:
    args = [env.convert(arg) for arg in expr.args]
    if expr.function == "cases":
        return _cases(args)
    if expr.function in _MOMENTS:
        return _MOMENTS[expr.function](*args)
    if expr.function in _INDICATORS:
        return sympy.Piecewise((1, _INDICATORS[expr.function](*args)), (0, True))
    if expr.function in ("factorial", "binom", "gamma", "beta"):
        for arg in args:
            if arg.is_number and abs(arg) > MAX_FACTORIAL:
                raise CheckError(f"the factorial of {arg} is too large to check")
    functions: dict[str, Callable[..., Any]] = {
        "exp": sympy.exp, "log": sympy.log, "sin": sympy.sin, "cos": sympy.cos,
        "tan": sympy.tan, "abs": sympy.Abs, "max": sympy.Max, "min": sympy.Min,
        "factorial": sympy.factorial, "binom": sympy.binomial,
        "root": lambda x, n: sympy.root(x, n), "floor": sympy.floor, "ceil": sympy.ceiling,
        "gamma": sympy.gamma, "beta": sympy.beta, "erf": sympy.erf, "erfc": sympy.erfc,
        "Phi": lambda z: (1 + sympy.erf(z / sympy.sqrt(2))) / 2,
    }  # fmt: skip
    return functions[expr.function](*args)


def _big(env: Env, expr: Big) -> sympy.Expr:
    var = env.symbol(expr.var)
    body = env.convert(expr.body)
    if expr.operator == "lim":
        assert expr.lower is not None
        return sympy.Limit(body, var, env.convert(expr.lower))
    if expr.operator == "int":
        low, high = env.bounds(expr.var, expr.lower, expr.upper)
        return sympy.Integral(body, (var, low, high))
    low, high = env.bounds(expr.var, expr.lower, expr.upper)
    kind = sympy.Sum if expr.operator == "sum" else sympy.Product
    return kind(body, (var, low, high))


_CONVERTERS: dict[type, Callable[[Env, Any], sympy.Expr]] = {
    Num: lambda env, e: sympy.Rational(e.value.numerator, e.value.denominator),
    Sym: lambda env, e: env.value(e.name),
    Idx: lambda env, e: sympy.IndexedBase(pretty(e.family))[env.convert(e.index)],
    Add: lambda env, e: sympy.Add(*(env.convert(t) for t in e.terms)),
    Mul: lambda env, e: sympy.Mul(*(env.convert(f) for f in e.factors)),
    Div: lambda env, e: env.convert(e.numerator) / env.convert(e.denominator),
    Neg: lambda env, e: -env.convert(e.operand),
    Pow: _pow,
    Call: _call,
    Big: _big,
    Infinity: lambda env, e: sympy.oo,
    Const: lambda env, e: sympy.E if e.name == "e" else sympy.pi,
    Deriv: lambda env, e: sympy.diff(env.convert(e.body), env.symbol(e.var)),
    At: lambda env, e: env.convert(e.body).subs(env.symbol(e.var), env.convert(e.value)),
}


# --- random points ----------------------------------------------------------------------------


EDGES = ("low", "high", "near zero")  # the first points of a claim, before random ones
FAR = 30  # how far an edge point goes where a real range has no end
FAR_COUNT = 10  # and an integer one: counts drive sums, whose cost grows with them
NEAR = sympy.Rational(1, 1000)  # how close it comes to an open end, or to zero


def _draw(
    domain: Domain, point: dict[Any, Any], env: Env, rng: random.Random, edge: str | None = None
) -> sympy.Rational:
    """A value in the domain: at an edge of it (where wrong bounds fail), else at random; beside
    its hole, if it has one."""
    value = _draw_any(domain, point, env, rng, edge)
    if domain.excluded is None or value != _end(domain.excluded, point, env):
        return value
    step = 1 if domain.integer else NEAR
    high = _end(domain.upper, point, env)
    return value + step if high is None or value + step < high else value - step


def _draw_any(
    domain: Domain, point: dict[Any, Any], env: Env, rng: random.Random, edge: str | None = None
) -> sympy.Rational:
    low = _end(domain.lower, point, env)
    high = _end(domain.upper, point, env)
    if domain.integer:
        low_int = sympy.ceiling(low) if low is not None else -3
        if low is not None and domain.lower_open and low_int == low:
            low_int += 1
        high_int = sympy.floor(high) if high is not None else low_int + 4
        if high is not None and domain.upper_open and high_int == high:
            high_int -= 1
        if high_int < low_int:
            raise CheckError("a variable's range is empty at some point")
        edges = {
            "low": low_int if low is not None else -FAR_COUNT,
            "high": high_int if high is not None else max(low_int, 0) + FAR_COUNT,
            "near zero": 0 if low_int <= 0 <= high_int else None,
        }
        chosen = edges.get(edge or "")
        if chosen is not None:
            return sympy.Integer(chosen)
        return sympy.Integer(rng.randint(int(low_int), int(high_int)))
    chosen = _real_edge(edge, low, high, domain)
    if chosen is not None:
        return chosen
    if low is None and high is None:
        low, high = sympy.Integer(-4), sympy.Integer(4)
    elif high is None:
        high = low + 5
    elif low is None:
        low = high - 5
    denominator = rng.randint(3, 13)
    step = sympy.Rational(rng.randint(1, denominator - 1), denominator)
    value = low + (high - low) * step
    return value if value.is_Rational else _fraction_between(value, low, high)


def _fraction_between(value: Any, low: Any, high: Any) -> sympy.Rational:
    """A simple fraction next to `value` and still inside (low, high): a range whose end is
    irrational (`t < -\\log(1 - p)`) gives irrational points, and points are exact fractions."""
    for denominator in (100, 10**4, 10**8, 10**12):
        near = sympy.Rational(
            int(sympy.floor(value * denominator + sympy.Rational(1, 2))), denominator
        )
        if bool(low < near) and bool(near < high):
            return near
    raise CheckError("a variable's range is too narrow to draw a point in")


def _real_edge(edge: str | None, low: Any, high: Any, domain: Domain) -> Any:
    """A real domain's end (just inside an open one), a far value where it has none, or a value
    near zero; None when that is not a rational number of the domain, or not asked for."""
    if edge == "low" and low is None:
        value = sympy.Integer(-FAR) if high is None else sympy.Min(high, 0) - FAR
    elif edge == "low":
        value = low + NEAR if domain.lower_open else low
    elif edge == "high" and high is None:
        value = sympy.Integer(FAR) if low is None else sympy.Max(low, 0) + FAR
    elif edge == "high":
        value = high - NEAR if domain.upper_open else high
    elif edge == "near zero":
        value = NEAR
    else:
        return None
    above_low = low is None or value > low or (value == low and not domain.lower_open)
    below_high = high is None or value < high or (value == high and not domain.upper_open)
    return value if value.is_Rational and above_low and below_high else None


def _end(bound: Expr | None, point: dict[Any, Any], env: Env) -> Any:
    if bound is None:
        return None
    value = env.convert(bound).subs(point)
    if not value.is_number:
        raise CheckError("a range depends on a variable that has no value")
    return value


def points(
    env: Env, needed: set[Any], rng: random.Random, count: int, edges: bool = False
) -> Iterator[dict[Any, Any]]:
    """Yield `count` assignments of the needed symbols (and what their ranges use): with `edges`,
    first every symbol at the low end of its range, then at the high end, then near zero; then
    random points."""
    order = _dependency_order(env, needed)
    for index in range(count):
        edge = EDGES[index] if edges and index < len(EDGES) else None
        point: dict[Any, Any] = {}
        for name in order:
            point[env.symbols[name]] = _draw(env.domains[name], point, env, rng, edge)
        yield point


def _dependency_order(env: Env, needed: set[Any]) -> list[str]:
    order: list[str] = []

    def visit(name: str) -> None:
        if name in order or name not in env.domains or name in env.families:
            return
        domain = env.domains[name]
        for bound in (domain.lower, domain.upper):
            if bound is not None:
                for symbol in env.convert(bound).free_symbols:
                    visit(env.names[symbol])
        order.append(name)

    for symbol in sorted(needed, key=str):
        if symbol in env.names:
            visit(env.names[symbol])
    return order


def _fill_families(
    sides: tuple[sympy.Expr, sympy.Expr], env: Env, point: dict[Any, Any], rng: random.Random
) -> tuple[sympy.Expr, sympy.Expr]:
    """Give every x[j] that a finite sum produced a random value from x's domain (in `point`)."""
    indexed = sorted(sides[0].atoms(sympy.Indexed) | sides[1].atoms(sympy.Indexed), key=str)
    if not indexed:
        return sides
    by_name = {pretty(name): name for name in env.families}
    for atom in indexed:
        domain = env.domains.get(by_name.get(str(atom.base), ""), Domain())
        point[atom] = _draw(domain, {}, env, rng)
    for family in env.simplex:  # a probability vector: scaled to sum to 1
        atoms = [atom for atom in indexed if str(atom.base) == pretty(family)]
        total = sum(point[atom] for atom in atoms)
        for atom in atoms:
            point[atom] = point[atom] / total if total else sympy.Rational(1, len(atoms))
    return sides[0].xreplace(point), sides[1].xreplace(point)


# --- evaluating and comparing -----------------------------------------------------------------


_BIG = (sympy.Sum, sympy.Product, sympy.Integral, sympy.Limit)
_DIGITS = 30


def evaluate(expr: sympy.Expr) -> sympy.Expr:
    """Carry out sums and products exactly; integrals numerically, by mpmath quadrature."""
    try:
        if expr.has(sympy.Integral):
            expr = expr.replace(lambda e: isinstance(e, sympy.Integral), _quadrature)
        value = expr.doit() if expr.has(sympy.Sum, sympy.Product, sympy.Limit) else expr
        # a sum SymPy cannot do exactly is summed numerically, once nothing is left unknown
        return sympy.N(value, _DIGITS) if value.has(*_BIG) and not value.free_symbols else value
    except ValueError as err:  # SymPy's word for "this sum diverges"
        raise CheckError(str(err)) from None


def _quadrature(integral: sympy.Integral) -> sympy.Expr:
    """A definite integral of one variable as a Float, via mpmath (much faster than evalf)."""
    (var, low, high), body = integral.limits[0], integral.function
    if len(integral.limits) != 1 or body.free_symbols - {var}:
        return integral
    function = _mp(body, var)
    with mpmath.workdps(_DIGITS):
        ends = [_mp(low, var)(0), _mp(high, var)(0)]
        value, error = mpmath.quad(
            function, [ends[0], *_kinks(body, var, ends), ends[1]], error=True
        )
    if error > QUADRATURE_ERROR * max(1, abs(value)):
        return sympy.nan  # not accurate enough to judge by (a heavy tail): the point says nothing
    return sympy.Float(value, _DIGITS)


QUADRATURE_ERROR = 1e-14  # relative error estimate beyond which a quadrature is not trusted


def _kinks(body: sympy.Expr, var: sympy.Symbol, ends: list[Any]) -> list[Any]:
    """Where |a x + b| in the integrand bends, inside the range: quadrature splits there, as
    it cannot see a kink (the Laplace density's at its centre)."""
    found = set()
    for bar in body.atoms(sympy.Abs):
        inside = sympy.expand(bar.args[0])
        slope, rest = inside.coeff(var, 1), inside.coeff(var, 0)
        if slope.is_number and slope != 0 and rest.is_number and inside == slope * var + rest:
            kink = mpmath.mpf(sympy.N(-rest / slope, _DIGITS + 5))
            if ends[0] < kink < ends[1]:
                found.add(kink)
    return sorted(found)


_MP_FUNCTIONS: dict[Any, Callable[..., Any]] = {
    sympy.exp: mpmath.exp, sympy.log: mpmath.log, sympy.Abs: mpmath.fabs,
    sympy.sin: mpmath.sin, sympy.cos: mpmath.cos, sympy.tan: mpmath.tan,
    sympy.factorial: mpmath.factorial, sympy.binomial: mpmath.binomial,
    sympy.gamma: mpmath.gamma, sympy.beta: mpmath.beta, sympy.erf: mpmath.erf,
    sympy.erfc: mpmath.erfc,
}  # fmt: skip


def _mp(expr: sympy.Expr, var: sympy.Symbol) -> Callable[[Any], Any]:
    """Compile a SymPy tree into nested mpmath closures (no code generation, no eval)."""
    if expr == var:
        return lambda t: t
    if expr.is_number:
        if expr in (sympy.oo, -sympy.oo):
            constant = mpmath.inf if expr == sympy.oo else -mpmath.inf
        else:
            constant = mpmath.mpf(sympy.N(expr, _DIGITS + 5))
        return lambda t: constant
    parts = [_mp(arg, var) for arg in expr.args]
    if isinstance(expr, sympy.Add):
        return lambda t: mpmath.fsum(part(t) for part in parts)
    if isinstance(expr, sympy.Mul):
        return lambda t: mpmath.fprod(part(t) for part in parts)
    if isinstance(expr, sympy.Pow):
        return lambda t: parts[0](t) ** parts[1](t)
    function = _MP_FUNCTIONS.get(expr.func)
    if function is None:
        raise CheckError(f"cannot integrate {expr} numerically")
    return lambda t: function(*(part(t) for part in parts))


def _tolerance(left: sympy.Expr, right: sympy.Expr) -> sympy.Float:
    """Exact values must agree to 35 digits; a numerical integral to 12."""
    inexact = left.has(sympy.Float) or right.has(sympy.Float)
    return sympy.Float("1e-12" if inexact else "1e-35")


def same(left: sympy.Expr, right: sympy.Expr) -> bool:
    if left.is_Rational and right.is_Rational:
        return bool(left == right)
    if left.is_finite is False or right.is_finite is False:  # a divergent sum is not ln 2
        return bool(left == right)
    difference = sympy.N(left - right, 50)
    scale = 1 + abs(sympy.N(left, 50))
    if not difference.is_number or difference.has(sympy.nan, sympy.zoo):
        raise CheckError(f"cannot evaluate {show(left)} - {show(right)}")
    return bool(abs(difference) <= _tolerance(left, right) * scale)


def holds(left: sympy.Expr, relation: str, right: sympy.Expr, digits: int | None) -> bool:
    if relation == "=":
        return same(left, right)
    if relation == "~":
        if left.is_finite is False or right.is_finite is False:
            return False
        tolerance = sympy.Rational(1, 2 * 10 ** (digits or 0)) * sympy.Rational(1001, 1000)
        return bool(abs(sympy.N(left - right, 50)) <= tolerance)
    a, b = sympy.N(left, 50), sympy.N(right, 50)
    if not (a.is_real and b.is_real and a.is_finite and b.is_finite):
        raise CheckError(f"cannot compare {left} and {right}")
    slack = _tolerance(left, right) * (1 + abs(a))
    return bool({"<=": a <= b + slack, "<": a < b, ">=": a >= b - slack, ">": a > b}[relation])


def show(value: sympy.Expr) -> str:
    text = str(value)
    if (len(text) > 24 or value.has(sympy.Float)) and value.is_number:
        return str(sympy.N(value, 6))
    return text


def describe(point: dict[Any, Any]) -> str:
    return ", ".join(f"{symbol}={value}" for symbol, value in point.items())


@contextmanager
def _budget(seconds: float) -> Iterator[None]:
    """Interrupt pure-Python SymPy work after `seconds` (the hard limit lives in verify.py)."""
    if not hasattr(signal, "SIGALRM"):
        yield
        return

    def expire(_signum: int, _frame: object) -> None:
        raise _OutOfTime

    previous = signal.signal(signal.SIGALRM, expire)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)


# --- the claims -------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Form:
    """A claim as `left relation right` in SymPy, with words for a failure message."""

    left: sympy.Expr
    relation: str
    right: sympy.Expr
    what: str
    digits: int | None = None


def check(spec: Spec, index: int, seed: int, *, prove: bool = True) -> Outcome:
    """Check claim `index` of the spec at seeded random points, then try to prove it."""
    claim = spec.claims[index]
    env = Env(spec)
    try:
        forms = _forms(env, spec, claim)
        exact = True
        for form in forms:
            failure, form_exact = _spot_check(env, form, claim, random.Random(seed))
            if failure:
                return Outcome("failed", failure)
            exact = exact and form_exact
        if exact or (prove and _prove(env, claim, forms)):
            return Outcome("proved")
        return Outcome("numeric")
    except CheckError as err:
        return Outcome("failed", f"{claim.label}: {err}")


def _forms(env: Env, spec: Spec, claim: Claim) -> list[_Form]:
    builders: dict[str, Callable[[Env, Spec, Claim], list[_Form]]] = {
        "holds": _holds_form, "value": _value_form, "pmf": _total_form, "pdf": _total_form,
        "mean": _moment_form, "variance": _moment_form, "dist": _dist_form,
        "derivative": _derivative_form, "max": _extreme_form, "min": _extreme_form,
        "argmax": _arg_form, "argmin": _arg_form, "mgf": _mgf_form,
    }  # fmt: skip
    return builders[claim.kind](env, spec, claim)


def _holds_form(env: Env, spec: Spec, claim: Claim) -> list[_Form]:
    if claim.relation == "sim":
        return _distributed_form(env, claim)
    assert claim.subject is not None and claim.value is not None
    digits = None
    if isinstance(claim.value, Num) and claim.value.decimal:
        digits = len(claim.value.decimal.partition(".")[2])
    scientific = _scientific(claim.value) if claim.relation == "~" else None
    if scientific:  # 1.2 \\cdot 10^{-16}: the left side over 10^-16 rounds to 1.2
        mantissa, power = scientific
        digits = len((mantissa.decimal or "").partition(".")[2])
        # the power converts as any other, under the same bound on exponents
        left = env.convert(claim.subject) / env.convert(
            Pow(Num(Fraction(10)), Num(Fraction(power)))
        )
        what = f"the left side ÷ 10^{power}"
        return [_Form(left, "~", env.convert(mantissa), what, digits)]
    if claim.relation == "~" and digits is None:
        raise CheckError(
            "write the approximate value as a decimal, like \\approx 0.069 or "
            "\\approx 1.2 \\cdot 10^{-5}"
        )
    left, right = env.convert(claim.subject), env.convert(claim.value)
    return [_Form(left, claim.relation, right, "the left side", digits)]


def _scientific(value: Expr | None) -> tuple[Num, int] | None:
    """`1.2 \\cdot 10^{-16}` or `3 \\times 10^{9}`: the mantissa and the power of ten."""
    if not (isinstance(value, Mul) and len(value.factors) == 2):
        return None
    mantissa, power = value.factors
    if not (
        isinstance(mantissa, Num) and isinstance(power, Pow) and power.base == Num(Fraction(10))
    ):
        return None
    exponent, sign = power.exponent, 1
    if isinstance(exponent, Neg):
        exponent, sign = exponent.operand, -1
    if not (isinstance(exponent, Num) and exponent.value.denominator == 1):
        return None
    return mantissa, sign * int(exponent.value)


def _distributed_form(env: Env, claim: Claim) -> list[_Form]:
    """`X + Y ~ Poisson(a + b)`: both sides have the same characteristic function."""
    assert claim.subject is not None and claim.distribution is not None
    t = env.real("t")
    left = _characteristic(env.convert(claim.subject), t)
    right = stats.characteristic_function(env.distribution("Y", claim.distribution))(t)
    return [_Form(left, "=", right, "the characteristic function E[e^(itX)]")]


def _characteristic(subject: sympy.Expr, t: sympy.Symbol) -> sympy.Expr:
    """E[e^(i t S)]: for a linear combination of independent variables, the product of theirs."""
    variables = sorted(stats.random_symbols(subject), key=str)
    if not variables:
        raise CheckError(f"{show(subject)} has no random variable in it")
    weights = [sympy.diff(subject, x) for x in variables]
    shift = sympy.expand(subject - sum(w * x for w, x in zip(weights, variables, strict=True)))
    linear = not any(stats.random_symbols(w) for w in [*weights, shift])
    if not linear:
        return stats.E(sympy.exp(sympy.I * t * subject))
    product = sympy.exp(sympy.I * t * shift)
    for weight, variable in zip(weights, variables, strict=True):
        product *= stats.characteristic_function(variable)(weight * t)
    return product


def _value_form(env: Env, spec: Spec, claim: Claim) -> list[_Form]:
    assert claim.subject is not None and claim.value is not None
    return [_Form(env.convert(claim.subject), "=", env.convert(claim.value), "the formula")]


def _distribution_parts(env: Env, claim: Claim) -> tuple[sympy.Expr, sympy.Symbol, Any, Any]:
    assert claim.subject is not None and claim.var is not None
    var = env.symbol(claim.var)
    low, high = env.bounds(claim.var, None, None)
    return env.convert(claim.subject), var, low, high


def _total(pmf: sympy.Expr, var: sympy.Symbol, low: Any, high: Any, kind: str) -> sympy.Expr:
    if kind == "pdf":
        return sympy.Integral(pmf, (var, low, high))
    return sympy.Sum(pmf, (var, low, high))


def _total_form(env: Env, spec: Spec, claim: Claim) -> list[_Form]:
    pmf, var, low, high = _distribution_parts(env, claim)
    what = f"the {'integral' if claim.kind == 'pdf' else 'sum'} over {var}"
    return [_Form(_total(pmf, var, low, high, claim.kind), "=", sympy.Integer(1), what)]


def _moment_form(env: Env, spec: Spec, claim: Claim) -> list[_Form]:
    assert claim.value is not None and claim.pmf_kind is not None
    pmf, var, low, high = _distribution_parts(env, claim)
    mean = _total(var * pmf, var, low, high, claim.pmf_kind)
    moment = mean
    if claim.kind == "variance":
        moment = _total(var**2 * pmf, var, low, high, claim.pmf_kind) - mean**2
    operation = "integral" if claim.pmf_kind == "pdf" else "sum"
    forms = [_Form(moment, "=", env.convert(claim.value), f"the {operation}")]
    named = _named_distribution(env, spec)
    if named is not None:
        exact = stats.E(named) if claim.kind == "mean" else stats.variance(named)
        forms.append(_Form(exact, "=", env.convert(claim.value), "sympy.stats"))
    return forms


def _mgf_form(env: Env, spec: Spec, claim: Claim) -> list[_Form]:
    """E[e^{tX}] by summing (integrating) the pmf (pdf), and by sympy.stats if named."""
    assert claim.value is not None and claim.pmf_kind is not None and claim.param is not None
    pmf, var, low, high = _distribution_parts(env, claim)
    t, value = env.symbol(claim.param), env.convert(claim.value)
    total = _total(sympy.exp(t * var) * pmf, var, low, high, claim.pmf_kind)
    operation = "integral" if claim.pmf_kind == "pdf" else "sum"
    forms = [_Form(total, "=", value, f"the {operation} of e^({t}{var}) times it")]
    named = _named_distribution(env, spec)
    if named is not None:
        exact = stats.moment_generating_function(named)(t)
        forms.append(_Form(exact, "=", value, "sympy.stats"))
    return forms


def _named_distribution(env: Env, spec: Spec) -> Any:
    for claim in spec.claims:
        if claim.kind == "dist" and claim.distribution is not None:
            name, args = claim.distribution
            params = [env.convert(arg) for arg in args]
            return getattr(stats, name)("X", *params)
    return None


def _dist_form(env: Env, spec: Spec, claim: Claim) -> list[_Form]:
    pmf, var, _low, _high = _distribution_parts(env, claim)
    named = _named_distribution(env, spec)
    return [_Form(pmf, "=", stats.density(named)(var), "the formula")]


def _derivative_form(env: Env, spec: Spec, claim: Claim) -> list[_Form]:
    assert claim.subject is not None and claim.value is not None and claim.var is not None
    derivative = sympy.diff(env.convert(claim.subject), env.symbol(claim.var))
    return [_Form(derivative, "=", env.convert(claim.value), "the derivative")]


def _extreme_form(env: Env, spec: Spec, claim: Claim) -> list[_Form]:
    """Never above the maximum at random points, and SymPy's maximum is the one claimed."""
    assert claim.subject is not None and claim.value is not None
    subject, value = env.convert(claim.subject), env.convert(claim.value)
    relation = "<=" if claim.kind == "max" else ">="
    forms = [_Form(subject, relation, value, "the formula")]
    extreme = _extreme(env, subject, claim.kind)
    if extreme is not None:
        forms.append(_Form(extreme, "=", value, f"the {claim.label}imum over the domain"))
    return forms


def _extreme(env: Env, subject: sympy.Expr, kind: str) -> sympy.Expr | None:
    """SymPy's maximum (minimum) of a function of one variable, if it finds one in time."""
    from sympy.calculus.util import maximum, minimum

    if len(subject.free_symbols) != 1:
        return None
    (var,) = subject.free_symbols
    low, high = env.bounds(env.names[var], None, None)
    try:
        with _budget(EXTREME_SECONDS):
            found = (maximum if kind == "max" else minimum)(subject, var, sympy.Interval(low, high))
    except (_OutOfTime, NotImplementedError, ValueError):
        return None
    return found if found.is_finite else None


def _arg_form(env: Env, spec: Spec, claim: Claim) -> list[_Form]:
    assert claim.subject is not None and claim.value is not None and claim.var is not None
    subject, var = env.convert(claim.subject), env.symbol(claim.var)
    at_point = subject.subs(var, env.convert(claim.value))
    relation = "<=" if claim.kind == "argmax" else ">="
    slope = sympy.diff(subject, var).subs(var, env.convert(claim.value))
    return [
        _Form(subject, relation, at_point, "the formula"),
        _Form(slope, "=", sympy.Integer(0), f"the slope at {var}={claim.text}"),
    ]


def _spot_check(env: Env, form: _Form, claim: Claim, rng: random.Random) -> tuple[str, bool]:
    """Compare both sides at random points; return a failure message (or "") and exactness."""
    needed = (form.left.free_symbols | form.right.free_symbols) - {sympy.Symbol("X")}
    count = (
        DISTRIBUTION_POINTS if claim.kind in ("pmf", "pdf", "mean", "variance", "mgf") else POINTS
    )
    exact, checked = True, 0
    general_left, general_right = form.left, form.right
    wanted = count if needed else 1
    # a point where a side is undefined (sigma = 0 in a correlation) says nothing: draw another
    # sums are slow there; an integral's quadrature is not to be trusted at extreme values
    edges = claim.kind not in ("pmf", "pdf", "mean", "variance", "dist", "mgf") and not (
        form.left.has(sympy.Integral) or form.right.has(sympy.Integral)
    )
    for point in points(env, needed, rng, wanted * UNDEFINED_TRIES, edges):
        sides = evaluate(_at(general_left, point)), evaluate(_at(general_right, point))
        left, right = map(evaluate, _fill_families(sides, env, point, rng))
        if _undefined(left) or _undefined(right):
            continue
        exact = exact and not needed and _is_exact(left) and _is_exact(right)
        if not holds(left, form.relation, right, form.digits):
            return _failure(claim, form, point, left, right), False
        checked += 1
        if checked == wanted:
            return "", exact
    raise CheckError(f"{show(form.left)} is undefined at every point tried")


def _undefined(value: sympy.Expr) -> bool:
    return bool(value.has(sympy.nan, sympy.zoo))


def _at(expr: sympy.Expr, point: dict[Any, Any]) -> sympy.Expr:
    """Put the point's values in; xreplace is much faster than subs but ignores binding."""
    bound = {
        v
        for big in expr.atoms(*_BIG)
        for v in (big.args[1:2] if isinstance(big, sympy.Limit) else big.variables)
    }
    value = expr.subs(point) if bound & set(point) else expr.xreplace(point)
    return value.replace(_zero_power, lambda power: sympy.KroneckerDelta(power.exp, 0))


def _zero_power(expr: Any) -> bool:
    """`0**(n - 1)` over n = 1, 2, ...: SymPy sums it as 0, though its first term is 1."""
    return (
        isinstance(expr, sympy.Pow)
        and expr.base == 0
        and not expr.exp.is_number
        and bool(expr.exp.is_nonnegative)
    )


def _is_exact(value: sympy.Expr) -> bool:
    return not value.has(sympy.Float, sympy.Sum, sympy.Integral, sympy.Product)


def _failure(
    claim: Claim, form: _Form, point: dict[Any, Any], left: sympy.Expr, right: sympy.Expr
) -> str:
    where = f"at {describe(point)} " if point else ""
    what = form.what.replace("{right}", show(right))
    if claim.kind == "holds":
        words = {"=": "equal", "~": "round to", "<=": "be at most", "<": "be below"}
        words |= {">=": "be at least", ">": "be above"}
        return (
            f"{claim.label} '{claim.text}' fails: {where}{what} gives {show(left)}, "
            f"which should {words[form.relation]} {show(right)}"
        )
    if claim.kind in ("max", "min", "argmax", "argmin") and form.relation != "=":
        more = "more" if claim.kind in ("max", "argmax") else "less"
        target = (
            f"at {pretty(claim.var or '')}={claim.text}"
            if claim.kind.startswith("arg")
            else "claimed"
        )
        gives = f"the formula gives {show(left)}"
        return f"{claim.label}: {where}{gives}, {more} than {target} ({show(right)})"
    if claim.kind == "dist":
        return f"{claim.label}: {where}the formula gives {show(left)}, sympy.stats {show(right)}"
    return f"{claim.label}: {where}{what} gives {show(left)}, claimed {show(right)}"


def _prove(env: Env, claim: Claim, forms: list[_Form]) -> bool:
    """Try to prove every form symbolically within the budget; False if SymPy cannot."""
    try:
        with _budget(PROOF_SECONDS):
            return all(_prove_form(form) for form in forms)
    except _OutOfTime:
        return False
    except Exception:
        return False


def _prove_form(form: _Form) -> bool:
    left, right = evaluate(form.left), evaluate(form.right)
    if form.relation == "~":
        return False
    difference = sympy.factor(sympy.simplify(right - left))
    if form.relation == "=":
        return bool(difference == 0)
    if form.relation in ("<=", "<"):
        return bool(difference.is_nonnegative if form.relation == "<=" else difference.is_positive)
    return bool(difference.is_nonpositive if form.relation == ">=" else difference.is_negative)


@dataclass(frozen=True)
class Curve:
    """A verified pmf or pdf at fixed parameter values, as floats for drawing."""

    discrete: bool
    function: Callable[[Any], Any]  # mpmath closure; valid inside [low, high] only
    low: float
    high: float
    mean: float | None
    variance: float | None

    def at(self, x: float) -> float:
        """The density (or probability) at x: zero outside the variable's range."""
        if x < self.low or x > self.high:
            return 0.0
        return float(self.function(mpmath.mpf(float(x))))


def curve(spec: Spec, values: dict[str, Fraction]) -> Curve:
    """Fix the formula's parameters and compile its pmf or pdf for plotting (no code generation)."""
    env = Env(spec)
    point = {
        env.symbol(name): sympy.Rational(v.numerator, v.denominator) for name, v in values.items()
    }
    claim = next(claim for claim in spec.claims if claim.kind in ("pmf", "pdf"))
    assert claim.subject is not None and claim.var is not None
    var = env.symbol(claim.var)
    body = env.convert(claim.subject).xreplace(point)
    low, high = (float(end.xreplace(point)) for end in env.bounds(claim.var, None, None))
    moments = {c.kind: c.value for c in spec.claims if c.kind in ("mean", "variance")}
    mean, variance = (_moment(env, moments.get(kind), point) for kind in ("mean", "variance"))
    return Curve(claim.kind == "pmf", _mp(body, var), low, high, mean, variance)


def _moment(env: Env, value: Expr | None, point: dict[Any, Any]) -> float | None:
    return None if value is None else float(env.convert(value).xreplace(point))
