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
import matplotlib.patches
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
    thresholds = np.linspace(-8, 14, 600)
    ax.plot([0, 1], [0, 1], ls="--", lw=0.8, color=theme.muted, label="chance, AUC = 0.50")
    for index, d in enumerate(settings["separation"]):
        fpr, tpr = _normal_rates(d, thresholds)
        label = f"d′ = {d:g}, AUC = {_normal_auc(d):.2f}"
        ax.plot(fpr, tpr, color=theme.palette[index], label=label)
    ax.set(
        xlabel="false positive rate (1 − specificity)",
        ylabel="true positive rate (recall)",
        xlim=(0, 1),
        ylim=(0, 1.01),
        aspect="equal",
    )
    ax.legend(loc="lower right")
    return figure


def _normal_rates(d: float, thresholds: Any) -> tuple[Any, Any]:
    """False and true positive rates at each threshold of N(0, 1) negatives, N(d, 1) positives."""
    z = NormalDist()
    fpr = np.array([1 - z.cdf(t) for t in thresholds])
    tpr = np.array([1 - z.cdf(t - d) for t in thresholds])
    return fpr, tpr


def _normal_auc(d: float) -> float:
    return NormalDist().cdf(d / math.sqrt(2))


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
        "gelu": (
            lambda x: x * _normal_cdf(x),
            lambda x: _normal_cdf(x) + x * np.exp(-(x**2) / 2) / math.sqrt(2 * math.pi),
            "GELU x·Φ(x)",
        ),
        "silu": (
            lambda x: x * sigmoid(x),
            lambda x: sigmoid(x) * (1 + x * (1 - sigmoid(x))),
            "SiLU x·σ(x)",
        ),
    }
    return table[name]


def _normal_cdf(x: Any) -> Any:
    return 0.5 * (1 + np.vectorize(math.erf)(x / math.sqrt(2)))


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


# --- machine-learning pictures ------------------------------------------------------------------


def _impurity(plot: Plot, settings: dict[str, Any], theme: Theme) -> Figure:
    """Gini impurity, entropy and misclassification error of a two-class node, by its share p."""
    figure, (ax,) = _figure(theme)
    p = np.linspace(0, 1, 401)
    inner = p[1:-1]
    entropy = np.concatenate(
        [[0.0], -inner * np.log2(inner) - (1 - inner) * np.log2(1 - inner), [0.0]]
    )
    scale, entropy_label = (
        (0.5, "entropy ÷ 2, max 0.5")
        if settings["scaled"]
        else (
            1.0,
            "entropy (bits), max 1",
        )
    )
    ax.plot(p, 2 * p * (1 - p), color=theme.palette[0], label="Gini 2p(1 − p), max 0.5")
    ax.plot(p, scale * entropy, color=theme.palette[1], label=entropy_label)
    ax.plot(p, 1 - np.maximum(p, 1 - p), color=theme.palette[2], label="misclassification, max 0.5")
    ax.axvline(0.5, color=theme.muted, lw=0.5, ls=":")
    ax.set(xlabel="share p of class 1 in the node", ylabel="impurity", xlim=(0, 1), ylim=(0, 1.45))
    ax.legend(loc="upper center", ncols=2)
    return figure


_LOSSES: dict[str, tuple[Callable[[Any], Any], str]] = {
    "zero-one": (lambda m: (m <= 0).astype(float), "0-1 loss"),
    "hinge": (lambda m: np.maximum(0, 1 - m), "hinge max(0, 1 − m)"),
    "logistic": (lambda m: np.logaddexp(0, -m) / math.log(2), "log loss log₂(1 + e⁻ᵐ)"),
    "squared-hinge": (lambda m: np.maximum(0, 1 - m) ** 2, "squared hinge"),
    "exponential": (lambda m: np.exp(-m), "exponential e⁻ᵐ (AdaBoost)"),
}


def _losses(plot: Plot, settings: dict[str, Any], theme: Theme) -> Figure:
    """Classification losses as functions of the margin m = y f(x), y in {-1, +1}."""
    figure, (ax,) = _figure(theme, height=2.4)
    low, high = settings["range"]
    m = np.linspace(low, high, 801)
    for index, name in enumerate(settings["losses"]):
        function, label = _LOSSES[name]
        ys = function(m)
        if name == "zero-one":  # a step: no line across the jump
            ys = np.where(np.isclose(m, 0, atol=(high - low) / 800), np.nan, ys)
        ax.plot(m, ys, color=theme.palette[index], label=label)
    ax.axvline(0, color=theme.muted, lw=0.5)
    ax.set(xlabel="margin m = y·f(x)", ylabel="loss", xlim=(low, high), ylim=(0, 3.2))
    ax.legend(loc="upper right")
    return figure


def _penalty_regions(plot: Plot, settings: dict[str, Any], theme: Theme) -> Figure:
    """The L1 and L2 balls of one size, with the least-squares loss contour that first touches
    each: the lasso's touches at a corner, where a coefficient is 0."""
    figure, axes = _figure(theme, 2, height=1.9)
    estimate = np.array(settings["estimate"], dtype=float)
    rho, budget = settings["correlation"], settings["budget"]
    hessian = np.array([[1.0, rho], [rho, 1.0]])
    angles = np.linspace(0, 2 * np.pi, 20_001)[:-1]
    circle = np.stack([np.cos(angles), np.sin(angles)], axis=1)
    shapes = {
        "lasso (L1)": circle / np.abs(circle).sum(axis=1, keepdims=True) * budget,
        "ridge (L2)": circle * budget,
    }
    span = max(np.abs(estimate).max(), budget) * 1.35
    grid = np.linspace(-span, span, 301)
    gx, gy = np.meshgrid(grid, grid)
    loss = _quadratic(np.stack([gx, gy], axis=-1) - estimate, hessian)
    for ax, (name, boundary) in zip(axes, shapes.items(), strict=True):
        inside = _quadratic(estimate, hessian) <= 0 or (
            np.abs(estimate).sum() <= budget
            if name.startswith("lasso")
            else np.hypot(*estimate) <= budget
        )
        values = _quadratic(boundary - estimate, hessian)
        best = estimate if inside else boundary[int(np.argmin(values))]
        best = np.where(np.abs(best) < 1e-3 * budget, 0.0, best)
        level = _quadratic(best - estimate, hessian)
        ax.fill(boundary[:, 0], boundary[:, 1], color=theme.palette[0], alpha=0.25, lw=0)
        ax.plot(*np.append(boundary, boundary[:1], axis=0).T, color=theme.palette[0], lw=0.9)
        if level > 0:
            ax.contour(
                gx,
                gy,
                loss,
                levels=level * np.array([1, 2.2, 4]),
                colors=theme.palette[1],
                linewidths=0.8,
            )
        ax.plot(*estimate, "o", color=theme.palette[1], ms=3)
        ax.plot(*best, "o", color=theme.ink, ms=3.5)
        ax.annotate(
            "β̂ (OLS)", (estimate[0], estimate[1]), (4, 4), textcoords="offset points", fontsize=6.5
        )
        ax.axhline(0, color=theme.muted, lw=0.5)
        ax.axvline(0, color=theme.muted, lw=0.5)
        ax.set(xlim=(-span, span), ylim=(-span, span), aspect="equal", xlabel="β₁", ylabel="β₂")
        ax.set_title(f"{name}: ({best[0]:.2f}, {best[1]:.2f})".replace("-0.00", "0.00"))
    return figure


def _quadratic(offsets: Any, hessian: Any) -> Any:
    return np.einsum("...i,ij,...j->...", offsets, hessian, offsets)


def _two_classes(rng: np.random.Generator, count: int, apart: float) -> tuple[Any, Any]:
    """`count` points of two Gaussian classes whose centres are `apart` SDs apart, half each."""
    labels = np.arange(count) % 2
    centres = np.where(labels[:, None] == 1, apart / 2, -apart / 2) * np.array([1.0, 0.6])
    return centres + rng.normal(0, 1, (count, 2)), labels


def _class_scatter(ax: Axes, points: Any, labels: Any, theme: Theme) -> None:
    for label, marker in ((0, "o"), (1, "^")):
        chosen = points[labels == label]
        ax.plot(
            chosen[:, 0],
            chosen[:, 1],
            marker,
            ms=2.2,
            color=theme.palette[label * 2],
            markeredgewidth=0,
        )


def _knn(plot: Plot, settings: dict[str, Any], theme: Theme) -> Figure:
    """The k-nearest-neighbour decision regions of one sample for each k."""
    rng = np.random.default_rng(settings["seed"])
    points, labels = _two_classes(rng, settings["points"], 2.0)
    figure, axes = _figure(theme, len(settings["k"]), height=1.9)
    low, high = points.min(axis=0) - 0.5, points.max(axis=0) + 0.5
    gx, gy = np.meshgrid(np.linspace(low[0], high[0], 160), np.linspace(low[1], high[1], 160))
    grid = np.stack([gx.ravel(), gy.ravel()], axis=1)
    for ax, k in zip(axes, settings["k"], strict=True):
        votes = _knn_votes(points, labels, grid, int(k))
        ax.contourf(
            gx,
            gy,
            votes.reshape(gx.shape),
            levels=[-0.5, 0.5, 1.5],
            colors=[theme.palette[0], theme.palette[2]],
            alpha=0.22,
        )
        _class_scatter(ax, points, labels, theme)
        error = np.mean(_knn_votes(points, labels, points, int(k)) != labels)
        ax.set_title(f"k = {k}, training error {error:.0%}")
        ax.set(xticks=[], yticks=[])
    return figure


def _knn_votes(points: Any, labels: Any, queries: Any, k: int) -> Any:
    """Majority class among each query's k nearest points (ties to class 1; k odd avoids them)."""
    # |q - p|^2 = |q|^2 - 2 q.p + |p|^2; |q|^2 is the same for every p, so it is left out
    distances = (points**2).sum(axis=1)[None, :] - 2 * queries @ points.T
    nearest = np.argpartition(distances, k - 1, axis=1)[:, :k]
    return (labels[nearest].mean(axis=1) >= 0.5).astype(int)


def _tree_partition(plot: Plot, settings: dict[str, Any], theme: Theme) -> Figure:
    """A depth-limited Gini tree grown on a 2-D sample whose true boundary is diagonal: its
    axis-aligned rectangles make a staircase."""
    rng = np.random.default_rng(settings["seed"])
    count = settings["points"]
    points = rng.uniform(0, 1, (count, 2))
    labels = (points[:, 1] > points[:, 0]).astype(int)
    flip = rng.uniform(0, 1, count) < settings["noise"]
    labels = np.where(flip, 1 - labels, labels)
    leaves: list[tuple[Any, Any, int]] = []
    _grow(points, labels, np.array([0.0, 0.0]), np.array([1.0, 1.0]), settings["depth"], leaves)
    figure, (ax,) = _figure(theme, height=2.6)
    correct = 0
    for low, high, label in leaves:
        ax.add_patch(
            matplotlib.patches.Rectangle(
                tuple(low),
                *(high - low),
                facecolor=theme.palette[label * 2],
                alpha=0.22,
                edgecolor=theme.ink,
                lw=0.6,
            )
        )
        inside = np.all((points >= low) & (points <= high), axis=1)
        correct += int(np.sum(labels[inside] == label))
    ax.plot([0, 1], [0, 1], ls=":", color=theme.muted, lw=0.8)
    _class_scatter(ax, points, labels, theme)
    ax.set(xlim=(0, 1), ylim=(0, 1), aspect="equal", xlabel="x₁", ylabel="x₂")
    ax.set_title(
        f"depth {settings['depth']}: {len(leaves)} leaves, training accuracy {correct / count:.0%}"
    )
    return figure


def _grow(
    points: Any, labels: Any, low: Any, high: Any, depth: int, leaves: list[tuple[Any, Any, int]]
) -> None:
    """CART on one node: the split with the lowest weighted Gini impurity, to `depth` levels."""
    majority = int(labels.mean() >= 0.5) if len(labels) else 0
    split = _best_split(points, labels) if depth > 0 and 0 < labels.mean() < 1 else None
    if split is None:
        leaves.append((low, high, majority))
        return
    feature, threshold = split
    left = points[:, feature] <= threshold
    left_high, right_low = high.copy(), low.copy()
    left_high[feature] = right_low[feature] = threshold
    _grow(points[left], labels[left], low, left_high, depth - 1, leaves)
    _grow(points[~left], labels[~left], right_low, high, depth - 1, leaves)


def _best_split(points: Any, labels: Any) -> tuple[int, float] | None:
    best: tuple[float, int, float] | None = None
    for feature in range(points.shape[1]):
        order = np.argsort(points[:, feature], kind="stable")
        xs, ys = points[order, feature], labels[order]
        ones_left = np.cumsum(ys)[:-1]
        n_left = np.arange(1, len(ys))
        n_right = len(ys) - n_left
        ones_right = ys.sum() - ones_left
        gini = (
            2 * ones_left * (n_left - ones_left) / n_left
            + 2 * ones_right * (n_right - ones_right) / n_right
        ) / len(ys)
        valid = xs[1:] > xs[:-1]
        if not valid.any():
            continue
        index = int(np.argmin(np.where(valid, gini, np.inf)))
        if best is None or gini[index] < best[0] - 1e-12:
            best = (float(gini[index]), feature, float((xs[index] + xs[index + 1]) / 2))
    return None if best is None else (best[1], best[2])


def _svm_margin(plot: Plot, settings: dict[str, Any], theme: Theme) -> Figure:
    """The maximum-margin line of a separable 2-D sample, its margin and support vectors."""
    rng = np.random.default_rng(settings["seed"])
    points, labels = _two_classes(rng, settings["points"], settings["separation"])
    signs = np.where(labels == 1, 1.0, -1.0)
    normal, offset, half = _max_margin(points, signs)
    if half <= 0:
        raise DrawError("the sample is not linearly separable: raise `separation` or change `seed`")
    distances = points @ normal + offset
    support = np.abs(np.abs(distances) - half) <= 1e-6 * max(1.0, half)
    figure, (ax,) = _figure(theme, height=2.6)
    low, high = points.min(axis=0) - 0.6, points.max(axis=0) + 0.6
    xs = np.linspace(low[0], high[0], 2)
    for shift, style in ((0, "-"), (half, "--"), (-half, "--")):
        # points x with normal . x + offset = shift
        ax.plot(
            xs,
            (shift - offset - normal[0] * xs) / normal[1],
            style,
            color=theme.ink,
            lw=1.0 if shift == 0 else 0.7,
        )
    _class_scatter(ax, points, labels, theme)
    ax.plot(points[support, 0], points[support, 1], "o", ms=6, mfc="none", mec=theme.ink, mew=0.8)
    ax.set(xlim=(low[0], high[0]), ylim=(low[1], high[1]), aspect="equal", xticks=[], yticks=[])
    ax.set_title(f"margin {2 * half:.2f} wide, {int(support.sum())} support vectors (circled)")
    return figure


def _max_margin(points: Any, signs: Any) -> tuple[Any, float, float]:
    """Unit normal w, offset b and half-width of the widest gap between the classes: in two
    dimensions a search over w's direction (coarse, then twice finer around the best)."""

    def gap(angles: Any) -> Any:
        normals = np.stack([np.cos(angles), np.sin(angles)], axis=1)
        projected = points @ normals.T
        upper = np.where(signs[:, None] > 0, projected, np.inf).min(axis=0)
        lower = np.where(signs[:, None] < 0, projected, -np.inf).max(axis=0)
        return (upper - lower) / 2, (upper + lower) / 2

    angles, width = np.linspace(-np.pi, np.pi, 7201), 2 * np.pi / 7200
    for _ in range(3):
        halves, _ = gap(angles)
        best = angles[int(np.argmax(halves))]
        angles = np.linspace(best - width, best + width, 2001)
        width /= 1000
    halves, middles = gap(angles)
    index = int(np.argmax(halves))
    normal = np.array([np.cos(angles[index]), np.sin(angles[index])])
    return normal, -float(middles[index]), float(halves[index])


def _pr_roc(plot: Plot, settings: dict[str, Any], theme: Theme) -> Figure:
    """The ROC curve of normal scores d' SDs apart beside their precision-recall curves at each
    prevalence: the ROC does not move with the prevalence, precision does."""
    figure, (roc, pr) = _figure(theme, 2, height=2.3)
    d = settings["separation"]
    thresholds = np.linspace(-8, 14, 1200)
    fpr, tpr = _normal_rates(d, thresholds)
    roc.plot([0, 1], [0, 1], ls="--", lw=0.7, color=theme.muted)
    roc.plot(fpr, tpr, color=theme.ink)
    roc.set(
        xlabel="false positive rate",
        ylabel="recall (TPR)",
        xlim=(0, 1),
        ylim=(0, 1.01),
        aspect="equal",
        title=f"ROC, AUC = {_normal_auc(d):.2f}",
    )
    recall = tpr[::-1]
    for index, share in enumerate(settings["prevalence"]):
        precision = (share * tpr / (share * tpr + (1 - share) * fpr + 1e-300))[::-1]
        average = float(np.sum(np.diff(recall) * precision[1:]))
        pr.plot(
            recall,
            precision,
            color=theme.palette[index],
            label=f"π = {share:g}, AP = {average:.2f}",
        )
        pr.axhline(share, ls=":", lw=0.6, color=theme.palette[index])
    pr.set(
        xlabel="recall",
        ylabel="precision",
        xlim=(0, 1),
        ylim=(0, 1.01),
        aspect="equal",
        title="precision–recall",
    )
    figure.legend(loc="outside lower center", ncols=3, fontsize=6)
    return figure


def _distance_concentration(plot: Plot, settings: dict[str, Any], theme: Theme) -> Figure:
    """Pairwise distances of uniform points in [0, 1]^d, over their mean: as d grows they bunch
    around the mean, so the nearest point is hardly nearer than the farthest."""
    rng = np.random.default_rng(settings["seed"])
    figure, (ax,) = _figure(theme, height=2.3)
    bins = list(np.linspace(0, 2, 81))
    for index, dimension in enumerate(settings["dimensions"]):
        points = rng.uniform(0, 1, (settings["points"], int(dimension)))
        squares = (points**2).sum(axis=1)
        gram = squares[:, None] + squares[None, :] - 2 * points @ points.T
        upper = np.triu_indices(len(points), 1)
        distances = np.sqrt(np.maximum(gram[upper], 0))
        contrast = (distances.max() - distances.min()) / distances.min()
        ax.hist(
            distances / distances.mean(),
            bins=bins,
            density=True,
            histtype="step",
            color=theme.palette[index],
            lw=1.0,
            label=f"d = {dimension}: contrast {contrast:.3g}"
            if contrast < 1000
            else f"d = {dimension}: contrast {contrast:.0f}",
        )
    ax.set(xlabel="pairwise distance ÷ mean distance", ylabel="density", xlim=(0, 2))
    ax.set_title("contrast = (farthest − nearest) ÷ nearest")
    ax.legend(loc="upper left")
    return figure


DIVERGED = 1e6  # |parameter| past which a descent path is taken to diverge


def _gradient_descent(plot: Plot, settings: dict[str, Any], theme: Theme) -> Figure:
    """Paths of batch, mini-batch and stochastic gradient descent on a least-squares loss of two
    parameters (intercept and slope), over the loss's contours."""
    rng = np.random.default_rng(settings["seed"])
    count, steps, rate = settings["points"], settings["steps"], settings["rate"]
    x = rng.normal(1.0, 0.6, count)
    y = 1.0 + 2.0 * x + rng.normal(0, 0.5, count)
    design = np.stack([np.ones(count), x], axis=1)
    best = np.linalg.lstsq(design, y, rcond=None)[0]
    figure, (ax,) = _figure(theme, height=2.6)
    start = np.array(settings["start"], dtype=float)
    paths = {}
    for index, method in enumerate(settings["methods"]):
        size = {"batch": count, "mini-batch": settings["batch"], "stochastic": 1}[method]
        theta, path = start.copy(), [start.copy()]
        for _ in range(steps):
            rows = rng.choice(count, size, replace=False) if size < count else np.arange(count)
            residual = design[rows] @ theta - y[rows]
            theta = theta - rate * 2 * design[rows].T @ residual / size
            if np.abs(theta).max() > DIVERGED:
                raise DrawError(
                    f"{method} gradient descent diverges at rate {rate:g}: lower `rate`"
                )
            path.append(theta.copy())
        paths[method] = np.array(path)
        loss = np.mean((design @ theta - y) ** 2)
        ax.plot(
            *paths[method].T,
            "-o",
            ms=1.4,
            lw=0.8,
            color=theme.palette[index],
            label=f"{method} (batch of {size}): loss {loss:.2f}",
        )
    every = np.concatenate([*paths.values(), best[None, :]])
    low, high = every.min(axis=0) - 0.4, every.max(axis=0) + 0.4
    ga, gb = np.meshgrid(np.linspace(low[0], high[0], 200), np.linspace(low[1], high[1], 200))
    # the mean squared error is its minimum plus a quadratic form around the least-squares fit
    floor = np.mean((design @ best - y) ** 2)
    surface = floor + _quadratic(np.stack([ga, gb], axis=-1) - best, design.T @ design / count)
    ax.contour(
        ga,
        gb,
        surface,
        levels=floor + np.geomspace(0.05, surface.max() - floor, 9),
        colors=theme.muted,
        linewidths=0.5,
    )
    ax.plot(*best, "*", color=theme.ink, ms=6)
    ax.set(xlabel="intercept", ylabel="slope", title=f"{steps} steps of size {rate:g}")
    ax.legend(loc="lower right", fontsize=6)
    return figure


def _reliability(plot: Plot, settings: dict[str, Any], theme: Theme) -> Figure:
    """Reliability diagrams of one sample's true probabilities passed through the sigmoid at each
    temperature T (logit ÷ T): T < 1 is overconfident, T > 1 underconfident, T = 1 calibrated."""
    rng = np.random.default_rng(settings["seed"])
    logits = rng.normal(0, 1.5, settings["points"])
    labels = rng.uniform(0, 1, settings["points"]) < 1 / (1 + np.exp(-logits))
    edges = np.linspace(0, 1, settings["bins"] + 1)
    figure, (ax,) = _figure(theme, height=3.0)
    ax.plot([0, 1], [0, 1], ls="--", lw=0.7, color=theme.muted, label="perfectly calibrated")
    for index, temperature in enumerate(settings["temperatures"]):
        scores = 1 / (1 + np.exp(-logits / temperature))
        bins = np.clip(np.searchsorted(edges, scores, side="right") - 1, 0, len(edges) - 2)
        used = np.bincount(bins, minlength=len(edges) - 1) > 0
        counts = np.bincount(bins, minlength=len(edges) - 1)[used]
        predicted = np.bincount(bins, weights=scores, minlength=len(edges) - 1)[used] / counts
        observed = np.bincount(bins, weights=labels, minlength=len(edges) - 1)[used] / counts
        error = float(np.sum(counts * np.abs(predicted - observed)) / len(scores))
        mood = (
            "calibrated"
            if temperature == 1
            else ("overconfident" if temperature < 1 else "underconfident")
        )
        ax.plot(
            predicted,
            observed,
            "-o",
            ms=2.2,
            lw=1.0,
            color=theme.palette[index],
            label=f"T = {temperature:g}, {mood}: ECE {error:.3f}",
        )
    ax.set(
        xlabel="mean predicted probability (per bin)",
        ylabel="fraction positive",
        xlim=(0, 1),
        ylim=(0, 1),
        aspect="equal",
        title=f"{settings['bins']} bins, {settings['points']} predictions",
    )
    figure.legend(loc="outside lower center", ncols=1, fontsize=6)
    return figure


def _pca(plot: Plot, settings: dict[str, Any], theme: Theme) -> Figure:
    """A correlated 2-D normal sample with its principal axes, each drawn two SDs long."""
    rng = np.random.default_rng(settings["seed"])
    spread, correlation = settings["ratio"], settings["correlation"]
    covariance = np.array([[1.0, correlation * spread], [correlation * spread, spread * spread]])
    points = rng.multivariate_normal([0.0, 0.0], covariance, settings["points"], method="cholesky")
    centre = points.mean(axis=0)
    variances, axes = np.linalg.eigh(np.cov(points, rowvar=False))
    order = np.argsort(variances)[::-1]
    variances, axes = variances[order], axes[:, order]
    # an eigenvector's sign is arbitrary: point each one to the right (or up), for stable drawings
    axes = axes * np.where(axes[np.abs(axes).argmax(axis=0), [0, 1]] < 0, -1.0, 1.0)
    figure, (ax,) = _figure(theme, height=2.6)
    ax.plot(*points.T, "o", ms=1.8, color=theme.palette[0], markeredgewidth=0, alpha=0.7)
    shares = variances / variances.sum()
    for index in range(2):
        tip = centre + 2 * np.sqrt(variances[index]) * axes[:, index]
        ax.annotate(
            "",
            xy=tuple(tip),
            xytext=tuple(centre),
            arrowprops={"arrowstyle": "->", "color": theme.palette[1 + index], "lw": 1.3},
        )
        ax.annotate(
            f"PC{index + 1}: {shares[index]:.0%}",
            xy=tuple(tip),
            xytext=(3, 3),
            textcoords="offset points",
            color=theme.palette[1 + index],
            fontsize=6.5,
        )
    ax.set(aspect="equal", xlabel="x₁", ylabel="x₂")
    ax.set_title(f"PC1 explains {shares[0]:.0%} of the variance (arrows: 2 SDs)")
    return figure


def _kmeans(plot: Plot, settings: dict[str, Any], theme: Theme) -> Figure:
    """Lloyd's algorithm on blobs: the assignment and centroids after each listed iteration."""
    rng = np.random.default_rng(settings["seed"])
    count, k = settings["points"], settings["k"]
    centres = rng.uniform(-5, 5, (settings["clusters"], 2))
    points = centres[np.arange(count) % len(centres)] + rng.normal(0, 1, (count, 2))
    centroids = _seeds(rng, points, k, settings["init"])
    shown = sorted(set(settings["show"]))
    figure, axes = _figure(theme, len(shown), height=2.0)
    states, done = {}, None
    for iteration in range(shown[-1] + 1):
        nearest = ((points[:, None, :] - centroids[None, :, :]) ** 2).sum(axis=2).argmin(axis=1)
        if iteration in shown:
            inertia = float(((points - centroids[nearest]) ** 2).sum())
            states[iteration] = (centroids.copy(), nearest, inertia)
        moved = np.array(
            [
                points[nearest == j].mean(axis=0) if np.any(nearest == j) else centroids[j]
                for j in range(k)
            ]
        )
        if done is None and np.allclose(moved, centroids):
            done = iteration
        centroids = moved
    for ax, iteration in zip(axes, shown, strict=True):
        at, nearest, inertia = states[iteration]
        for j in range(k):
            colour = theme.palette[j % len(theme.palette)]
            ax.plot(*points[nearest == j].T, "o", ms=1.6, color=colour, markeredgewidth=0)
            ax.plot(*at[j], "X", ms=6, color=colour, markeredgecolor=theme.ink, mew=0.6)
        stop = f" (stable since {done})" if done is not None and iteration > done else ""
        ax.set_title(f"iteration {iteration}{stop}\ninertia {inertia:.0f}", fontsize=6.5)
        ax.set(xticks=[], yticks=[], aspect="equal")
    return figure


def _seeds(rng: np.random.Generator, points: Any, k: int, init: str) -> Any:
    """k distinct points of the sample: uniformly at random, or by k-means++ (each next one with
    probability proportional to its squared distance to the nearest chosen)."""
    if init == "random":
        return points[rng.choice(len(points), k, replace=False)]
    chosen = [points[rng.integers(len(points))]]
    for _ in range(k - 1):
        squared = ((points[:, None, :] - np.array(chosen)[None, :, :]) ** 2).sum(axis=2).min(axis=1)
        chosen.append(points[rng.choice(len(points), p=squared / squared.sum())])
    return np.array(chosen)


def _lr_schedules(plot: Plot, settings: dict[str, Any], theme: Theme) -> Figure:
    """Learning rate against the training step for each schedule, peaking at `rate`."""
    steps, peak, warmup = settings["steps"], settings["rate"], settings["warmup"]
    t = np.arange(steps + 1) / steps  # share of training done
    figure, (ax,) = _figure(theme, height=2.3)
    for index, name in enumerate(settings["schedules"]):
        rates, label = _schedule(name, t, peak, warmup)
        ax.plot(np.arange(steps + 1), rates, color=theme.palette[index], label=label)
    ax.set(xlabel="training step", ylabel="learning rate", xlim=(0, steps), ylim=(0, 1.05 * peak))
    ax.set_title(f"peak rate {peak:g}, {steps} steps")
    ax.legend(loc="upper right", fontsize=6)
    return figure


def _schedule(name: str, t: Any, peak: float, warmup: float) -> tuple[Any, str]:
    """The schedule at the shares t of training done, and its legend label."""
    if name == "constant":
        return np.full_like(t, peak), "constant"
    if name == "step":
        return peak * 0.1 ** ((t >= 0.5).astype(int) + (t >= 0.75)), "step: ÷10 at 50% and 75%"
    if name == "exponential":
        return peak * 0.01**t, "exponential: to 1% at the end"
    cosine = peak * 0.5 * (1 + np.cos(np.pi * t))
    if name == "cosine":
        return cosine, "cosine"
    # linear warmup over the first `warmup` share, then cosine decay over the rest
    after = np.clip((t - warmup) / (1 - warmup), 0, 1)
    ramp = peak * t / warmup if warmup > 0 else np.full_like(t, peak)
    decay = peak * 0.5 * (1 + np.cos(np.pi * after))
    return np.where(t < warmup, ramp, decay), f"warmup ({warmup:.0%}) + cosine"


def _optimizers(plot: Plot, settings: dict[str, Any], theme: Theme) -> Figure:
    """Paths of optimizers on the ill-conditioned quadratic f = (x² + κy²)/2 from one start."""
    kappa, steps = settings["condition"], settings["steps"]
    scale = np.array([1.0, kappa])  # the gradient of f is (x, κy)
    figure, (ax,) = _figure(theme, height=2.9)
    paths = []
    for index, name in enumerate(settings["methods"]):
        path = _descend(name, np.array(settings["start"], dtype=float), scale, steps, settings)
        paths.append(path)
        loss = 0.5 * float(np.sum(scale * path[-1] ** 2))
        ax.plot(
            *path.T,
            "-o",
            ms=1.3,
            lw=0.8,
            color=theme.palette[index],
            label=f"{_OPTIMIZER_NAMES[name]}: f = {loss:.2g}",
        )
    every = np.concatenate([*paths, np.zeros((1, 2))])
    low, high = every.min(axis=0), every.max(axis=0)
    pad = 0.1 * (high - low) + 0.1
    gx, gy = np.meshgrid(
        np.linspace(low[0] - pad[0], high[0] + pad[0], 200),
        np.linspace(low[1] - pad[1], high[1] + pad[1], 200),
    )
    surface = 0.5 * (gx**2 + kappa * gy**2)
    ax.contour(
        gx,
        gy,
        surface,
        levels=np.geomspace(max(surface.max(), 1e-6) * 1e-3, surface.max(), 8),
        colors=theme.muted,
        linewidths=0.5,
    )
    ax.plot(0, 0, "*", color=theme.ink, ms=6)
    ax.set(xlabel="x", ylabel="y")
    ax.set_title(
        f"(x² + κy²)/2, κ = {kappa:g}, {steps} steps, "
        f"rate {settings['rate']:g} (adaptive {settings['adaptive_rate']:g})"
    )
    figure.legend(loc="outside lower center", ncols=2, fontsize=6)
    return figure


_OPTIMIZER_NAMES = {
    "sgd": "SGD",
    "momentum": "momentum 0.9",
    "nesterov": "Nesterov 0.9",
    "adagrad": "AdaGrad",
    "rmsprop": "RMSProp 0.9",
    "adam": "Adam (0.9, 0.999)",
}


def _descend(name: str, start: Any, scale: Any, steps: int, settings: dict[str, Any]) -> Any:
    """The iterates of one optimizer on f = Σ scale·θ²/2, with the textbook (PyTorch) updates."""
    rate, adaptive, eps = settings["rate"], settings["adaptive_rate"], 1e-8
    theta, velocity, squares = start.copy(), np.zeros(2), np.zeros(2)
    path = [theta.copy()]
    for step in range(1, steps + 1):
        # Nesterov takes the gradient at the point momentum is about to carry theta to
        ahead = theta - rate * 0.9 * velocity if name == "nesterov" else theta
        gradient = scale * ahead
        if name == "sgd":
            theta = theta - rate * gradient
        elif name in ("momentum", "nesterov"):
            velocity = 0.9 * velocity + gradient
            theta = theta - rate * velocity
        elif name == "adagrad":
            squares = squares + gradient**2
            theta = theta - adaptive * gradient / (np.sqrt(squares) + eps)
        elif name == "rmsprop":
            squares = 0.9 * squares + 0.1 * gradient**2
            theta = theta - adaptive * gradient / (np.sqrt(squares) + eps)
        else:  # adam, with bias correction
            velocity = 0.9 * velocity + 0.1 * gradient
            squares = 0.999 * squares + 0.001 * gradient**2
            corrected = velocity / (1 - 0.9**step)
            theta = theta - adaptive * corrected / (np.sqrt(squares / (1 - 0.999**step)) + eps)
        if np.abs(theta).max() > DIVERGED:
            raise DrawError(
                f"{_OPTIMIZER_NAMES[name]} diverges at rate {rate:g}: lower `rate` "
                f"(plain gradient descent needs rate < 2/κ = {2 / float(scale[1]):.3g})"
            )
        path.append(theta.copy())
    return np.array(path)


def _vanishing_gradients(plot: Plot, settings: dict[str, Any], theme: Theme) -> Figure:
    """The gradient's size at each layer of a deep fully connected network at initialisation,
    relative to the last layer: backpropagated through a random batch, for each activation."""
    depth, width = settings["depth"], settings["width"]
    figure, (ax,) = _figure(theme, height=2.4)
    for index, name in enumerate(settings["functions"]):
        rng = np.random.default_rng(settings["seed"])
        sizes = _backpropagated(rng, name, depth, width, settings["init"])
        scheme = settings["init"] if settings["init"] != "matched" else _MATCHED[name]
        ax.semilogy(
            np.arange(1, depth + 1),
            sizes / sizes[-1],
            color=theme.palette[index],
            label=f"{_activation(name, 0.01)[2]}, {scheme} init",
        )
    ax.axhline(1, color=theme.muted, lw=0.5)
    ax.set(xlabel="layer (1 = nearest the input)", ylabel="gradient size ÷ last layer's")
    ax.set_title(f"{depth} layers of width {width}, at initialisation")
    ax.legend(loc="lower right", fontsize=6)
    return figure


_MATCHED = {"sigmoid": "Xavier", "tanh": "Xavier", "relu": "He", "leaky-relu": "He",
            "gelu": "He", "silu": "He"}  # fmt: skip


def _backpropagated(rng: np.random.Generator, name: str, depth: int, width: int, init: str) -> Any:
    """Root-mean-square gradient of the loss w.r.t. each layer's weights, for a random batch and
    a random output gradient."""
    function, derivative, _ = _activation(name, 0.01)
    scheme = _MATCHED[name] if init == "matched" else init
    spread = {"Xavier": 1.0, "He": 2.0, "standard": float(width)}[scheme]
    batch = 64
    activity = rng.normal(0, 1, (batch, width))
    inputs, slopes, weights = [], [], []
    for _ in range(depth):
        matrix = rng.normal(0, math.sqrt(spread / width), (width, width))
        before = activity @ matrix
        inputs.append(activity)
        slopes.append(derivative(before))
        weights.append(matrix)
        activity = function(before)
    upstream = rng.normal(0, 1, (batch, width))
    sizes = np.zeros(depth)
    for layer in reversed(range(depth)):
        local = upstream * slopes[layer]
        sizes[layer] = np.sqrt(np.mean((inputs[layer].T @ local) ** 2))
        upstream = local @ weights[layer].T
    return sizes


def _batch_statistics(plot: Plot, settings: dict[str, Any], theme: Theme) -> Figure:
    """How far one mini-batch's mean and SD, which batch norm normalises with, stray from the
    population's (0 and 1) at each batch size: the median and middle 90% of many batches."""
    sizes = sorted(set(settings["sizes"]))
    rng = np.random.default_rng(settings["seed"])
    means, sds = _batch_moments(rng, sizes, settings["batches"])
    figure, (ax,) = _figure(theme, height=2.3)
    series = (("batch mean", means, 0.0), ("batch SD (biased)", sds, 1.0))
    for index, (label, values, truth) in enumerate(series):
        low, middle, high = np.percentile(values, [5, 50, 95], axis=1)
        ax.fill_between(sizes, low, high, color=theme.palette[index], alpha=0.25, lw=0)
        ax.plot(sizes, middle, color=theme.palette[index], marker="o", ms=2.5, label=label)
        ax.axhline(truth, color=theme.muted, lw=0.5)
    ax.set_xscale("log", base=2)
    ax.set_xticks(sizes, [str(size) for size in sizes])
    ax.minorticks_off()
    ax.set(xlabel="batch size", ylabel="one batch's statistic")
    ax.set_title(f"N(0, 1) values: median and middle 90% of {settings['batches']} batches")
    ax.legend(loc="center right", bbox_to_anchor=(1, 0.62), fontsize=6)
    return figure


def _batch_moments(rng: np.random.Generator, sizes: list[int], batches: int) -> tuple[Any, Any]:
    """Each batch's mean and biased SD, for `batches` batches of unit-normal values per size."""
    means, sds = np.zeros((len(sizes), batches)), np.zeros((len(sizes), batches))
    for row, size in enumerate(sizes):
        draws = rng.normal(0, 1, (batches, size))
        means[row], sds[row] = draws.mean(axis=1), draws.std(axis=1)
    return means, sds


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
    "impurity": _impurity,
    "losses": _losses,
    "penalty-regions": _penalty_regions,
    "tree-partition": _tree_partition,
    "knn": _knn,
    "svm-margin": _svm_margin,
    "pr-roc": _pr_roc,
    "distance-concentration": _distance_concentration,
    "gradient-descent": _gradient_descent,
    "reliability": _reliability,
    "pca": _pca,
    "kmeans": _kmeans,
    "lr-schedules": _lr_schedules,
    "optimizers": _optimizers,
    "vanishing-gradients": _vanishing_gradients,
    "batch-statistics": _batch_statistics,
}


def kinds() -> Iterator[str]:
    """Every kind of plot there is a drawing for."""
    yield from _DRAWERS
