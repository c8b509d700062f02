"""Notation of probability references, right and wrong: special functions, indicators, moment
generating functions, the named distributions, and random variables with their expectations,
variances, probabilities and distributions."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from conftest import deckgen
from test_inline import paragraph
from test_verify import card, counts, write_cards

HATS = "where y \\in \\mathbb{R}, \\hat{y} \\in \\mathbb{R}"
HUBER = "where r \\in \\mathbb{R}, \\delta > 0\nlet L_\\delta(r) = r^2"
POISSONS = (
    "where \\lambda > 0, \\mu > 0\nwhere X \\sim \\text{Poisson}(\\lambda), Y \\sim Pois(\\mu)"
)
NORMAL = "where a > 0, b \\in \\mathbb{R}\nwhere Z \\sim N(0, 1)"

# (right, wrong, what the failure says): inline statements, under a block where one is given
INLINE = [
    (r"$\Gamma(5) = 24$", r"$\Gamma(5) = 120$", "gives 24"),
    (r"$\Gamma(\frac{1}{2}) = \sqrt{\pi}$", r"$\Gamma(\frac{1}{2}) = \pi$", "fails"),
    (r"$\mathrm{B}(2, 3) = \frac{1}{12}$", r"$\mathrm{B}(2, 3) = \frac{1}{6}$", "gives 1/12"),
    (r"$\Phi(1.96) \approx 0.975$", r"$\Phi(1.96) \approx 0.95$", "round to"),
    (r"$\operatorname{erf}(0) = 0$", r"$\operatorname{erf}(0) = 1$", "fails"),
    (r"$\mathbb{1}_{3 > 2} = 1$", r"$\mathbb{1}_{3 > 2} = 0$", "fails"),
    (r"$\mathbf{1}\{2 \le 1\} = 0$", r"$\mathbf{1}\{2 \le 1\} = 1$", "fails"),
    (r"$\max(2, 5, 3) = 5 = \min(5, 7)$", r"$\max(2, 5, 3) = 3$", "gives 5"),
    (
        paragraph(r"Slope: $\frac{d}{d\hat{y}} (\hat{y} - y)^2 = 2(\hat{y} - y)$.", HATS),
        paragraph(r"Slope: $\frac{d}{d\hat{y}} (\hat{y} - y)^2 = \hat{y} - y$.", HATS),
        "identity .* fails",
    ),
    (
        paragraph(r"Huber: $L_\delta'(r) = 2r$, $L_\delta(3) = 9$.", HUBER),
        paragraph(r"Huber: $L_\delta'(r) = r$.", HUBER),
        "identity .* fails",
    ),
    (
        paragraph(r"Third: $f^{(3)}(0) = 6$.", "where x \\in \\mathbb{R}\nlet f(x) = x^3 + x"),
        paragraph(r"Third: $f^{(3)}(0) = 3$.", "where x \\in \\mathbb{R}\nlet f(x) = x^3 + x"),
        "gives 6",
    ),
    (
        paragraph(r"Then $X + Y \sim \text{Poisson}(\lambda + \mu)$.", POISSONS),
        paragraph(r"Then $X + Y \sim \text{Poisson}(\lambda\mu)$.", POISSONS),
        r"distribution .* fails: at .* the characteristic function",
    ),
    (
        paragraph(r"Moments: $\mathbb{E}[X^2] = \lambda + \lambda^2$.", POISSONS),
        paragraph(r"Moments: $\mathbb{E}[X^2] = \lambda^2$.", POISSONS),
        "identity .* fails",
    ),
    (
        paragraph(r"Scale: $\operatorname{Var}(2X + 1) = 4\lambda$.", POISSONS),
        paragraph(r"Scale: $\operatorname{Var}(2X + 1) = 2\lambda$.", POISSONS),
        "identity .* fails",
    ),
    (
        paragraph(r"None: $P(X = 0) = e^{-\lambda}$.", POISSONS),
        paragraph(r"None: $P(X = 0) = e^{-\mu}$.", POISSONS),
        "identity .* fails",
    ),
    (
        paragraph(r"Linear: $aZ + b \sim N(b, a^2)$.", NORMAL),  # N takes the variance
        paragraph(r"Linear: $aZ + b \sim N(b, a)$.", NORMAL),
        "distribution .* fails",
    ),
    (
        paragraph(
            r"Rules: $\operatorname{Cov}(Z, 3Z) = 3$, $\mathbb{E}[e^{Z}] = e^{1/2}$.", NORMAL
        ),
        paragraph(r"Rules: $\operatorname{Cov}(Z, 3Z) = 9$.", NORMAL),
        "identity .* fails",
    ),
]

EXPONENTIAL = r"f(x) = \lambda e^{-\lambda x}, \qquad x > 0"
GAMMA = r"f(x) = \frac{x^{k - 1} e^{-x/\theta}}{\Gamma(k)\,\theta^k}, \qquad x > 0"
POISSON = r"P(X = k) = \frac{\lambda^k e^{-\lambda}}{k!}, \qquad k = 0, 1, 2, \dots"
# display formulas: an mgf claim and the distributions sympy.stats names
DISPLAY = [
    (
        card(
            POISSON,
            "where \\lambda > 0, t \\in \\mathbb{R}\npmf k: P(X = k)\n"
            "mgf t: e^{\\lambda(e^t - 1)}\ndist: Poisson(\\lambda)",
        ),
        card(
            POISSON,
            "where \\lambda > 0, t \\in \\mathbb{R}\npmf k: P(X = k)\nmgf t: e^{\\lambda(e^t + 1)}",
        ),
        r"mgf: at .* the sum of e\^\(tk\) times it gives",
    ),
    (
        card(
            EXPONENTIAL,
            "where \\lambda > 0, t < \\lambda\npdf x: f(x)\n"
            "mgf t: \\frac{\\lambda}{\\lambda - t}\ndist: Exponential(\\lambda)",
        ),
        card(
            EXPONENTIAL,
            "where \\lambda > 0, t < \\lambda\npdf x: f(x)\nmgf t: \\frac{\\lambda}{\\lambda + t}",
        ),
        "mgf: at",
    ),
    (
        card(
            GAMMA,
            "where k > 0, \\theta > 0\npdf x: f(x)\n"
            "mean: k\\theta\nvariance: k\\theta^2\ndist: Gamma(k, \\theta)",
        ),
        card(GAMMA, "where k > 0, \\theta > 0\npdf x: f(x)\ndist: Gamma(\\theta, k)"),
        "dist: at .* the formula gives",
    ),
]


@pytest.mark.parametrize(
    ("right", "wrong", "message"), INLINE + DISPLAY, ids=range(len(INLINE + DISPLAY))
)
def test_reference_notation_is_checked_right_and_wrong(
    project: Path, right: str, wrong: str, message: str
) -> None:
    write_cards(project, [f"Right: {right}\n" if right.startswith("$") else right])
    result = deckgen("verify")
    assert result.exit_code == 0, result.output
    row = counts(result.output)
    assert row["claims"] >= 1 and row["failed"] == row["unverified"] == 0
    (line,) = write_cards(project, [f"Wrong: {wrong}\n" if wrong.startswith("$") else wrong])
    result = deckgen("verify")
    assert result.exit_code == 1
    places = "|".join(str(n) for n in range(line, line + 8))
    assert re.search(rf"^cards/checks.md:({places}): .*{message}", result.output, re.M), (
        result.output
    )


def test_a_random_variable_outside_an_expectation_is_refused(project: Path) -> None:
    (line,) = write_cards(project, [paragraph(r"Then $X + 1 = \lambda$.", POISSONS)])
    result = deckgen("verify")
    assert result.exit_code == 1
    assert f"cards/checks.md:{line}:" in result.output


LAPLACE = r"f(x) = \frac{1}{2b} e^{-|x - \mu|/b}, \qquad x \in \mathbb{R}"
STUDENT = (
    r"f(x) = \frac{\Gamma(\frac{\nu + 1}{2})}{\sqrt{\nu\pi}\,\Gamma(\frac{\nu}{2})}"
    r" \left(1 + \frac{x^2}{\nu}\right)^{-(\nu + 1)/2}, \qquad x \in \mathbb{R}"
)
TRUE = [  # true formulas that were reported false, or crashed the checker
    # quadrature across the kink at mu
    card(LAPLACE, "where \\mu \\in \\mathbb{R}, b > 0\npdf x: f(x)\nmean: \\mu\nvariance: 2b^2"),
    # a heavy tail for small nu: the quadrature's own error estimate says it cannot judge
    card(STUDENT, "where \\nu > 0\npdf x: f(x)\ndist: StudentT(\\nu)"),
    # a real range open below, with a positive upper end: the low edge point crashed
    card(
        r"M(t) = \frac{\lambda}{\lambda - t}, \qquad t < \lambda",
        "where \\lambda > 0\nholds: M(t) > 0",
    ),
    # an integer range with dots between its two ends
    card(
        r"\sum_{i=1}^{7} x_i \le 7",
        "where i \\in \\{1, \\dots, 7\\}, x_i \\in [0, 1]",
    ),
]


TRUE.append(  # `let n = ...` does not swallow the start of n_L
    card(
        r"G = \frac{n_L}{n}",
        "where n_L \\in \\mathbb{Z}_{>0}, n_R \\in \\mathbb{Z}_{>0}\n"
        "let n = n_L + n_R\nholds: G \\le 1",
    )
)


@pytest.mark.parametrize(
    "formula", TRUE, ids=["laplace", "student-t", "open-below", "dots-range", "subscripted-let"]
)
def test_a_true_formula_is_not_reported_false(project: Path, formula: str) -> None:
    write_cards(project, [formula])
    result = deckgen("verify")
    assert result.exit_code == 0, result.output
    row = counts(result.output)
    assert row["claims"] >= 1 and row["failed"] == row["undecided"] == 0


FAMILY = (
    "where x \\in \\mathbb{R}, n \\in \\mathbb{Z}_{>0}, i \\in \\{1, \\dots, n\\}, a_i \\in [0, 1]"
)
GINI = r"G = 1 - \sum_{k=1}^{K} p_k^2"
SIMPLEX = (
    "where K \\in \\mathbb{Z}_{>0}, k \\in \\{1, \\dots, K\\}, p_k \\in [0, 1], "
    "\\sum_{k=1}^{K} p_k = 1"
)
RELU = (
    r"\operatorname{ReLU}(x) = \begin{cases} x & \text{if } x > 0 \\"
    r" 0 & \text{otherwise} \end{cases}"
)
HUBER_CASES = (
    r"L(r) = \begin{cases} \frac{1}{2} r^2, & |r| \le \delta \\"
    r" \delta\left(|r| - \frac{1}{2}\delta\right), & \text{otherwise} \end{cases}"
)
DOMAINS = [  # (right, wrong, message): ellipses, limits, cases and the domains references use
    (
        card(RELU, "where x \\in \\mathbb{R}\nholds: \\operatorname{ReLU}(x) = \\max(x, 0)"),
        card(RELU, "where x \\in \\mathbb{R}\nholds: \\operatorname{ReLU}(x) = |x|"),
        "identity .* fails: at x=-",
    ),
    (
        card(
            HUBER_CASES,
            "where r \\in \\mathbb{R}, \\delta > 0\nholds: 0 \\le L(r) \\le \\frac{1}{2} r^2",
        ),
        card(
            HUBER_CASES,
            "where r \\in \\mathbb{R}, \\delta > 0\nholds: L(r) \\le \\delta |r| - \\delta^2",
        ),
        "bound .* fails",
    ),
    (
        paragraph(r"Dots: $a_1 + \dots + a_n \le n$, $a_1 \cdots a_n \le 1$.", FAMILY),
        paragraph(r"Dots: $a_1 + \dots + a_n \le 1$.", FAMILY),
        r"bound 'a_1 \+ \\dots \+ a_n \\le 1' fails: at n=",
    ),
    (
        # `= a_1 + \dots + a_n` is a sum, not a range like k = 0, 1, \dots, n
        card(r"S = a_1 + \dots + a_n", FAMILY + "\nholds: S = \\sum_{i=1}^{n} a_i"),
        card(r"S = a_1 + \dots + a_n", FAMILY + "\nholds: S = \\sum_{i=2}^{n} a_i"),
        "identity .* fails",
    ),
    (
        paragraph(r"Limits: $\lim_{n \to \infty} (1 + x/n)^n = e^x$.", FAMILY),
        paragraph(r"Limits: $\lim_{n \to \infty} (1 + x/n)^n = e^{2x}$.", FAMILY),
        "identity .* fails: at x=",
    ),
    (  # a probability vector: the random points sum to 1
        card(GINI, SIMPLEX + "\nholds: 0 \\le G \\le 1 - \\frac{1}{K}"),
        card(GINI, SIMPLEX + "\nholds: G \\le \\frac{1}{2}"),
        r"bound 'G \\le \\frac\{1\}\{2\}' fails: at K=",
    ),
    (  # a domain with a hole: never drawn at 0
        card(r"\frac{|z|}{z} \le 1", "where z \\in \\mathbb{R}, z \\ne 0"),
        card(r"\frac{|z|}{z} \ge 1", "where z \\in \\mathbb{R}, z \\ne 0"),
        "bound .* fails: at z=-",
    ),
]


@pytest.mark.parametrize(("right", "wrong", "message"), DOMAINS, ids=range(len(DOMAINS)))
def test_ellipses_limits_and_domains_are_checked_right_and_wrong(
    project: Path, right: str, wrong: str, message: str
) -> None:
    test_reference_notation_is_checked_right_and_wrong(project, right, wrong, message)
