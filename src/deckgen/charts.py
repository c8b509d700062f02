"""The kinds of plot: each draws one declared plot onto a Matplotlib figure, in a theme.

Everything random is drawn from NumPy generators seeded by the plot's `seed` option.
"""

from __future__ import annotations

import io
import itertools
import math
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from fractions import Fraction
from statistics import NormalDist
from typing import Any

import matplotlib
import mpmath
import numpy as np
from matplotlib.axes import Axes
from matplotlib.figure import Figure
from matplotlib.ticker import MaxNLocator

from deckgen import symbolic
from deckgen.plotspec import Plot, distribution_claim


class DrawError(Exception):
    """The plot cannot be drawn as declared; the message says why."""


WIDTH = 3.4  # inches: one column of the A4 landscape cheatsheet, less a margin
HEIGHT = 2.1


@dataclass(frozen=True)
class Theme:
    """Colours of one rendering: day (print and Anki) or night (Anki's night mode)."""

    name: str
    ink: str
    muted: str
    background: str
    palette: tuple[str, ...]
    alert: str

    def rc(self) -> dict[str, Any]:
        """Matplotlib settings: the one style every deckgen plot shares."""
        return {
            "font.family": "DejaVu Sans",
            "font.size": 7.5,
            "axes.titlesize": 7.5,
            "axes.labelsize": 7.5,
            "xtick.labelsize": 6.5,
            "ytick.labelsize": 6.5,
            "legend.fontsize": 6.5,
            "legend.frameon": False,
            "axes.linewidth": 0.6,
            "lines.linewidth": 1.3,
            "xtick.major.width": 0.6,
            "ytick.major.width": 0.6,
            "axes.spines.top": False,
            "axes.spines.right": False,
            "text.color": self.ink,
            "axes.labelcolor": self.ink,
            "axes.edgecolor": self.ink,
            "xtick.color": self.ink,
            "ytick.color": self.ink,
            "axes.titlecolor": self.ink,
            "figure.facecolor": self.background,
            "axes.facecolor": self.background,
            "savefig.facecolor": self.background,
            "savefig.edgecolor": self.background,
            "svg.fonttype": "none",
            "svg.hashsalt": "deckgen",
            "mathtext.fontset": "dejavusans",
            "axes.unicode_minus": True,
        }


# Okabe-Ito colours, distinguishable with every common colour-vision deficiency.
DAY = Theme(
    "day",
    "#222222",
    "#8c8c8c",
    "#ffffff",
    ("#0072B2", "#D55E00", "#009E73", "#CC79A7", "#E69F00", "#56B4E9"),
    "#D55E00",
)
# Lighter blue and green so lines stand out on Anki's dark card; transparent to match it.
NIGHT = Theme(
    "night",
    "#e8e6e1",
    "#8f8f8f",
    "none",
    ("#56B4E9", "#FF8A3D", "#3CCB9A", "#E69AC8", "#F0C040", "#A8D8F5"),
    "#FF8A3D",
)


ANKI_DPI = 280  # a card shows plots 560 px wide (165 px/inch): sharp on high-density screens too


def files(plot: Plot) -> tuple[bytes, bytes, bytes]:
    """Draw a plot into its files: SVG for print, PNG for Anki by day and by night."""
    style: Any = DAY.rc()  # Matplotlib types its keys as literals; ours are checked by it at run
    with matplotlib.rc_context(style):
        day = draw(plot, DAY)
        svg = _save(day, "svg", metadata={"Date": None})
        png = _save(day, "png", dpi=ANKI_DPI, metadata={"Software": None})
    style = NIGHT.rc()
    with matplotlib.rc_context(style):
        night = draw(plot, NIGHT)
        png_night = _save(night, "png", dpi=ANKI_DPI, metadata={"Software": None})
    return svg, png, png_night


def _save(figure: Figure, fmt: str, **options: Any) -> bytes:
    buffer = io.BytesIO()
    figure.savefig(buffer, format=fmt, **options)
    return buffer.getvalue()


def draw(plot: Plot, theme: Theme) -> Figure:
    """Draw one plot; call inside `matplotlib.rc_context(theme.rc())`."""
    return _DRAWERS[plot.kind](plot, plot.settings, theme)


def _figure(
    theme: Theme, count: int = 1, height: float = HEIGHT, cols: int = 2
) -> tuple[Figure, list[Axes]]:
    """A figure one column wide with `count` axes, `cols` per row when there are several."""
    cols = 1 if count == 1 else cols
    rows = math.ceil(count / cols)
    figure = Figure(
        figsize=(WIDTH, height if rows == 1 else 1.3 * rows + 0.25), layout="constrained"
    )
    axes = list(figure.subplots(rows, cols, squeeze=False).ravel())
    for extra in axes[count:]:
        extra.set_visible(False)
    return figure, axes[:count]


# --- distributions drawn from formulas --------------------------------------------------------


def _curves(plot: Plot) -> list[tuple[str, symbolic.Curve]]:
    spec = plot.spec()
    curves = []
    for series in plot.settings["series"]:
        values = {name: Fraction(value) for name, value in series.items()}
        label = ", ".join(f"{symbolic.pretty(n)} = {_number(v)}" for n, v in values.items())
        curves.append((label, symbolic.curve(spec, values)))
    return curves


def _values(curve: symbolic.Curve, xs: Any, label: str) -> list[float]:
    """The formula at every x; a value no probability can have stops the drawing."""
    values = [curve.at(x) for x in xs]
    for x, value in zip(xs, values, strict=True):
        if not (math.isfinite(value) and value >= 0):
            raise DrawError(f"at {label} the formula gives {value:g} for x = {x:g}")
    return values


def _number(value: Fraction) -> str:
    return str(value.numerator) if value.denominator == 1 else f"{float(value):g}"


def _distribution(plot: Plot, settings: dict[str, Any], theme: Theme) -> Figure:
    curves = _curves(plot)
    panels = settings["layout"] == "panels" and len(curves) > 1
    figure, axes = _figure(theme, len(curves) if panels else 1)
    var = symbolic.pretty(distribution_claim(plot.spec()).var)
    discrete = curves[0][1].discrete
    xs = _discrete_range(curves, settings) if discrete else _continuous_range(curves, settings)
    for index, (label, curve) in enumerate(curves):
        ax = axes[index] if panels else axes[0]
        color = theme.palette[index]
        if plot.kind == "pmf":
            shift, width = (0.0, 0.8) if panels else _dodge(index, len(curves))
            ax.bar(xs + shift, _values(curve, xs, label), width, color=color, label=label)
        elif discrete:  # a cdf of a pmf: a staircase
            ax.step(
                xs,
                np.cumsum(_values(curve, xs, label)) + _below(curve, xs[0]),
                where="post",
                color=color,
                label=label,
            )
        elif plot.kind == "cdf":
            ax.plot(xs, _integral(curve, xs), color=color, label=label)
        else:
            density = _values(curve, xs, label)
            ax.plot(xs, density, color=color, label=label)
            if settings["bands"] and (panels or index == 0):
                _bands(ax, curve, xs, density, color, theme)
    for index, ax in enumerate(axes):  # after every series: limits fit them all
        _label_axes(ax, plot.kind, var, curves[index][0] if panels else None, discrete)
    if not panels and len(curves) > 1:  # above the axes: never on top of a bar or a curve
        axes[0].legend(loc="lower center", bbox_to_anchor=(0.5, 1.0), ncols=min(len(curves), 3))
    elif not panels and not settings.get("bands"):
        axes[0].set_title(curves[0][0])
    return figure


def _dodge(index: int, count: int) -> tuple[float, float]:
    width = 0.8 / count
    return (index - (count - 1) / 2) * width, width


def _label_axes(ax: Axes, kind: str, var: str, title: str | None, discrete: bool) -> None:
    ylabel = {"pmf": f"P(X = {var})", "pdf": f"f({var})", "cdf": f"P(X ≤ {var})"}[kind]
    ax.set_xlabel(var)
    ax.set_ylabel(ylabel)
    ax.set_ylim(bottom=0)
    if discrete:
        ax.xaxis.set_major_locator(MaxNLocator(integer=True))
    if title:
        ax.set_title(title)


def _discrete_range(curves: list[tuple[str, symbolic.Curve]], settings: dict[str, Any]) -> Any:
    """Whole numbers from the lowest start to where every series has 99.5% of its mass."""
    if settings.get("range"):
        low, high = settings["range"]
        return np.arange(math.ceil(low), math.floor(high) + 1)
    start = min(curve.low for _, curve in curves)
    end = max(_mass_end(curve) for _, curve in curves)
    return np.arange(int(start), int(end) + 1)


def _mass_end(curve: symbolic.Curve, mass: float = 0.995, most: int = 200) -> float:
    total, k = 0.0, curve.low
    while total < mass and k < min(curve.high, curve.low + most):
        total += curve.at(k)
        k += 1
    return min(k, curve.high)


def _below(curve: symbolic.Curve, start: float) -> float:
    return sum(curve.at(k) for k in range(int(curve.low), int(start))) if start > curve.low else 0.0


def _continuous_range(curves: list[tuple[str, symbolic.Curve]], settings: dict[str, Any]) -> Any:
    """Four standard deviations either side of the mean, a little past a finite support."""
    if settings.get("range"):
        low, high = settings["range"]
    else:
        ends = [_span(curve) for _, curve in curves]
        low, high = min(e[0] for e in ends), max(e[1] for e in ends)
    xs = np.linspace(low, high, 401)
    edges = [e for _, c in curves for e in (c.low, c.high) if low < e < high]
    # both sides of a jump at the end of the support, so a uniform density draws a step
    extra = [x for e in edges for x in (e - 1e-9 * (high - low), e)]
    return np.unique(np.concatenate([xs, extra]))


def _span(curve: symbolic.Curve) -> tuple[float, float]:
    assert curve.mean is not None and curve.variance is not None  # plotspec asks for a range
    sd = math.sqrt(curve.variance)
    low = max(curve.mean - 4 * sd, curve.low - 0.5 * sd)
    high = min(curve.mean + 4 * sd, curve.high + 0.5 * sd)
    return low, high


def _integral(curve: symbolic.Curve, xs: Any) -> list[float]:
    """The CDF by integrating the density piece by piece from the start of its support."""
    start = max(curve.low, -mpmath.inf)
    total = float(mpmath.quad(curve.function, [start, xs[0]])) if xs[0] > curve.low else 0.0
    values = [total]
    for a, b in itertools.pairwise(xs):
        lo, hi = max(a, curve.low), min(b, curve.high)
        if lo < hi:
            total += float(mpmath.quad(curve.function, [lo, hi]))
        values.append(total)
    return values


def _bands(
    ax: Axes, curve: symbolic.Curve, xs: Any, density: list[float], color: str, theme: Theme
) -> None:
    """Shade mean ± 1, 2, 3 SD and mark each band's probability, integrated from the formula."""
    assert curve.mean is not None and curve.variance is not None
    mean, sd = curve.mean, math.sqrt(curve.variance)
    peak = max(density)
    for k, alpha, height in ((3, 0.12, 0.06), (2, 0.22, 0.22), (1, 0.34, 0.45)):
        low, high = mean - k * sd, mean + k * sd
        inside = (xs >= low) & (xs <= high)
        ax.fill_between(xs[inside], np.array(density)[inside], color=color, alpha=alpha, lw=0)
        mass = float(mpmath.quad(curve.function, [max(low, curve.low), min(high, curve.high)]))
        y = height * peak
        ax.annotate(
            "",
            (low, y),
            (high, y),
            arrowprops={
                "arrowstyle": "<->",
                "color": theme.ink,
                "lw": 0.6,
                "shrinkA": 0,
                "shrinkB": 0,
            },
        )
        ax.text(mean, y, f"{100 * mass:.1f}%", ha="center", va="bottom", fontsize=6.5)
    ticks = [mean + k * sd for k in range(-3, 4)]
    ax.set_xticks(
        ticks,
        [
            "μ" if k == 0 else f"μ{'+' if k > 0 else '−'}{abs(k) if abs(k) > 1 else ''}σ"
            for k in range(-3, 4)
        ],
    )
    ax.tick_params(axis="x", labelsize=6)


# --- simulations and fixed functions ----------------------------------------------------------


def _long_tail(plot: Plot, settings: dict[str, Any], theme: Theme) -> Figure:
    """A long-tailed distribution against the normal with the same mean and SD."""
    tail = _TAILS[settings["tail"]](settings["shape"] or _DEFAULT_SHAPE[settings["tail"]])
    normal = NormalDist(tail.mean, tail.sd)
    figure, (density_ax, survival_ax) = _figure(theme, 2, cols=1)
    xs = np.linspace(0, tail.quantile(0.99), 400)
    density_ax.plot(xs, [tail.pdf(x) for x in xs], color=theme.palette[1], label=tail.name)
    density_ax.plot(xs, [normal.pdf(x) for x in xs], color=theme.palette[0], label="normal")
    density_ax.set(xlabel="x", ylabel="density", ylim=(0, None), title="same mean and SD")
    far = np.linspace(0, tail.quantile(0.999), 400)
    survival_ax.semilogy(far, [tail.survival(x) for x in far], color=theme.palette[1])
    survival_ax.semilogy(far, [_normal_survival(normal, x) for x in far], color=theme.palette[0])
    survival_ax.set(xlabel="x", ylabel="P(X > x)", ylim=(1e-9, 1.5), title="tails, log scale")
    density_ax.legend(loc="upper right")
    return figure


@dataclass(frozen=True)
class _Tail:
    name: str
    mean: float
    sd: float
    pdf: Callable[[float], float]
    survival: Callable[[float], float]
    quantile: Callable[[float], float]


_DEFAULT_SHAPE = {"lognormal": 1.0, "pareto": 2.5}


def _lognormal(s: float) -> _Tail:
    z = NormalDist()
    return _Tail(
        f"log-normal, σ = {s:g}",
        math.exp(s * s / 2),
        math.sqrt((math.exp(s * s) - 1) * math.exp(s * s)),
        lambda x: z.pdf(math.log(x) / s) / (x * s) if x > 0 else 0.0,
        lambda x: 0.5 * math.erfc(math.log(x) / (s * math.sqrt(2))) if x > 0 else 1.0,
        lambda q: math.exp(s * z.inv_cdf(q)),
    )


def _pareto(alpha: float) -> _Tail:
    return _Tail(
        f"Pareto, α = {alpha:g}",
        alpha / (alpha - 1),
        math.sqrt(alpha / ((alpha - 1) ** 2 * (alpha - 2))),
        lambda x: alpha * x ** (-alpha - 1) if x >= 1 else 0.0,
        lambda x: x**-alpha if x >= 1 else 1.0,
        lambda q: (1 - q) ** (-1 / alpha),
    )


_TAILS = {"lognormal": _lognormal, "pareto": _pareto}


def _normal_survival(normal: NormalDist, x: float) -> float:
    return 0.5 * math.erfc((x - normal.mean) / (normal.stdev * math.sqrt(2)))


def _clt(plot: Plot, settings: dict[str, Any], theme: Theme) -> Figure:
    """Histograms of sample means of Exponential(1) draws, with the normal the CLT predicts."""
    rng = np.random.default_rng(settings["seed"])
    sizes = settings["sizes"]
    figure, axes = _figure(theme, len(sizes))
    for ax, n in zip(axes, sizes, strict=True):
        means = rng.exponential(1.0, size=(settings["samples"], n)).mean(axis=1)
        high = 1 + 4.5 / math.sqrt(n) if n > 1 else 6.0
        ax.hist(
            means,
            bins=list(np.linspace(0, high, 40)),
            density=True,
            color=theme.palette[0],
            alpha=0.75,
            lw=0,
        )
        xs = np.linspace(0, high, 300)
        ax.plot(xs, [NormalDist(1, 1 / math.sqrt(n)).pdf(x) for x in xs], color=theme.palette[1])
        ax.set_title(f"n = {n}")
        ax.set_yticks([])
        ax.spines["left"].set_visible(False)
    for ax in axes[-2:]:
        ax.set_xlabel("sample mean")
    figure.suptitle("means of n Exponential(1) draws; line: N(1, 1/n)", fontsize=7)
    return figure


def _ci_coverage(plot: Plot, settings: dict[str, Any], theme: Theme) -> Figure:
    """Many 95% intervals for a normal mean (σ known); the ones that miss it stand out."""
    rng = np.random.default_rng(settings["seed"])
    count, n, level = settings["intervals"], settings["n"], settings["level"]
    z = NormalDist().inv_cdf((1 + level) / 2)
    means = rng.normal(0.0, 1.0, size=(count, n)).mean(axis=1)
    half = z / math.sqrt(n)
    missed = np.abs(means) > half
    figure, (ax,) = _figure(theme, 1, height=3.0)
    rows = np.arange(1, count + 1)
    for hit, color, width in ((False, theme.muted, 0.8), (True, theme.alert, 1.4)):
        chosen = missed == hit
        ax.hlines(rows[chosen], means[chosen] - half, means[chosen] + half, color=color, lw=width)
        ax.plot(means[chosen], rows[chosen], "o", color=color, ms=1.6)
    ax.axvline(0, color=theme.palette[0], lw=1)
    ax.set(xlabel="interval for the mean μ = 0", ylabel="sample", ylim=(0, count + 1))
    ax.set_title(f"{int(missed.sum())} of {count} {level:.0%} intervals miss μ (n = {n})")
    return figure


def _roc(plot: Plot, settings: dict[str, Any], theme: Theme) -> Figure:
    """ROC curves of scores that are normal in each class, d' standard deviations apart."""
    figure, (ax,) = _figure(theme, 1, height=2.9)
    z = NormalDist()
    thresholds = np.linspace(-8, 14, 600)
    ax.plot([0, 1], [0, 1], ls="--", lw=0.8, color=theme.muted, label="chance, AUC = 0.50")
    for index, d in enumerate(settings["separation"]):
        fpr = [1 - z.cdf(t) for t in thresholds]
        tpr = [1 - z.cdf(t - d) for t in thresholds]
        auc = z.cdf(d / math.sqrt(2))
        ax.plot(fpr, tpr, color=theme.palette[index], label=f"d′ = {d:g}, AUC = {auc:.2f}")
    ax.set(
        xlabel="false positive rate (1 − specificity)",
        ylabel="true positive rate (recall)",
        xlim=(0, 1),
        ylim=(0, 1.01),
        aspect="equal",
    )
    ax.legend(loc="lower right")
    return figure


def _activations(plot: Plot, settings: dict[str, Any], theme: Theme) -> Figure:
    """Each activation function (and its derivative, dashed, if asked) on its own axes."""
    names = settings["functions"]
    figure, axes = _figure(theme, len(names))
    low, high = settings["range"]
    xs = np.linspace(low, high, 401)
    for ax, name in zip(axes, names, strict=True):
        function, derivative, title = _activation(name, settings["slope"])
        ax.plot(xs, function(xs), color=theme.palette[0], label="f(x)")
        if settings["derivatives"]:
            ax.plot(xs, derivative(xs), color=theme.palette[1], ls="--", label="f′(x)")
        ax.axhline(0, color=theme.muted, lw=0.5)
        ax.axvline(0, color=theme.muted, lw=0.5)
        ax.set_title(title)
    if settings["derivatives"]:
        axes[0].legend(loc="upper left")
    return figure


def _activation(name: str, slope: float) -> tuple[Callable[[Any], Any], Callable[[Any], Any], str]:
    def sigmoid(x: Any) -> Any:
        return 1 / (1 + np.exp(-x))

    table: dict[str, tuple[Callable[[Any], Any], Callable[[Any], Any], str]] = {
        "sigmoid": (sigmoid, lambda x: sigmoid(x) * (1 - sigmoid(x)), "sigmoid σ(x)"),
        "tanh": (np.tanh, lambda x: 1 - np.tanh(x) ** 2, "tanh(x)"),
        "relu": (lambda x: np.maximum(x, 0), lambda x: (x > 0).astype(float), "ReLU max(0, x)"),
        "leaky-relu": (
            lambda x: np.where(x > 0, x, slope * x),
            lambda x: np.where(x > 0, 1.0, slope),
            f"leaky ReLU, slope {slope:g}",
        ),
    }
    return table[name]


def _bias_variance(plot: Plot, settings: dict[str, Any], theme: Theme) -> Figure:
    """Train and validation error of polynomial fits to noisy sin(2πx), by degree."""
    low, high = (int(end) for end in settings["degrees"])
    degrees = np.arange(low, high + 1)
    train, valid = _fit_errors(settings, degrees)
    figure, (ax,) = _figure(theme)
    ax.semilogy(degrees, train, "o-", ms=2.5, color=theme.palette[0], label="training error")
    ax.semilogy(degrees, valid, "o-", ms=2.5, color=theme.palette[1], label="validation error")
    ax.axhline(settings["noise"] ** 2, color=theme.muted, ls=":", lw=0.8, label="noise variance")
    best = int(np.argmin(valid))
    ax.annotate(
        f"best: degree {degrees[best]}",
        (degrees[best], valid[best]),
        (0, 14),
        textcoords="offset points",
        ha="center",
        fontsize=6.5,
        arrowprops={"arrowstyle": "-", "color": theme.muted, "lw": 0.6},
    )
    # room above the curves for the legend, and below them for the two regimes
    ax.set_ylim(min(train) / 5, max(valid) * 40)
    ax.text(0.02, 0.03, "← high bias", transform=ax.transAxes, fontsize=6.5, color=theme.muted)
    ax.text(
        0.98,
        0.03,
        "high variance →",
        transform=ax.transAxes,
        fontsize=6.5,
        ha="right",
        color=theme.muted,
    )
    ax.set(xlabel="model complexity (polynomial degree)", ylabel="mean squared error")
    ax.xaxis.set_major_locator(MaxNLocator(integer=True))
    ax.legend(loc="upper left", ncols=2)
    return figure


def _fit_errors(settings: dict[str, Any], degrees: Any) -> tuple[Any, Any]:
    rng = np.random.default_rng(settings["seed"])
    points, noise = settings["points"], settings["noise"]
    train, valid = np.zeros(len(degrees)), np.zeros(len(degrees))
    for _ in range(settings["repeats"]):
        x, y = _noisy(rng, points, noise)
        x_new, y_new = _noisy(rng, 500, noise)
        for i, degree in enumerate(degrees):
            fit = np.polynomial.Polynomial.fit(x, y, int(degree))
            train[i] += np.mean((fit(x) - y) ** 2)
            valid[i] += np.mean((fit(x_new) - y_new) ** 2)
    return train / settings["repeats"], valid / settings["repeats"]


def _noisy(rng: np.random.Generator, count: int, noise: float) -> tuple[Any, Any]:
    x = rng.uniform(0, 1, count)
    return x, np.sin(2 * np.pi * x) + rng.normal(0, noise, count)


_DRAWERS: dict[str, Callable[[Plot, dict[str, Any], Theme], Figure]] = {
    "pmf": _distribution,
    "pdf": _distribution,
    "cdf": _distribution,
    "long-tail": _long_tail,
    "clt": _clt,
    "ci-coverage": _ci_coverage,
    "roc": _roc,
    "activations": _activations,
    "bias-variance": _bias_variance,
}


def kinds() -> Iterator[str]:
    """Every kind of plot there is a drawing for."""
    yield from _DRAWERS
