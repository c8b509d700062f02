"""Inline statements: a verify block under a paragraph checks the claims in its running text,
conditions and definitions need none, `given:` marks a hypothesis, and `--strict` fails on a
claim that nothing checks. Also the notation such sentences use: functions defined by `let`,
primes and d/dx."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from conftest import deckgen
from test_verify import counts, write_cards

from deckgen.statements import shape


def paragraph(text: str, block: str) -> str:
    return f"{text}\n\n```verify\n{block.strip()}\n```\n"


SIGMOID = "where x \\in \\mathbb{R}\nlet \\sigma(x) = \\frac{1}{1 + e^{-x}}"


@pytest.mark.parametrize(
    ("latex", "kind"),
    [
        ("n = 30", "condition"),
        ("1 < \\alpha < 2", "condition"),
        ("np \\ge 10", "condition"),
        ("n \\to \\infty", "condition"),
        ("k = 0, 1, \\dots, n", "condition"),
        ("p = (0.4, 0.15, 0.45)", "condition"),
        ("x \\in \\mathbb{R}", "condition"),
        ("Z = (\\bar{X} - \\mu)/(\\sigma/\\sqrt{n})", "definition"),
        ("X \\sim N(0, 1)", "definition"),
        ("L(\\theta) = \\prod_i p(x_i \\mid \\theta)", "definition"),
        ("\\hat{\\sigma}^2 = \\frac{1}{n}\\sum_i (x_i - \\bar{x})^2", "definition"),
        ("\\alpha \\approx 1.16", "claim"),  # a computed value, not an assumption
        ("P(A) = 0", "claim"),
        ("\\sigma(0) = \\frac{1}{2}", "claim"),
        ("\\sigma'(x) = \\sigma(x)(1 - \\sigma(x))", "claim"),
        ("\\operatorname{Var}(\\bar{X}_n) = \\sigma^2/n", "claim"),
        ("\\frac{dJ}{dp} = \\frac{p - y}{p(1-p)}", "claim"),
        ("X + Y \\sim \\text{Poisson}(\\lambda + \\mu)", "claim"),
    ],
)
def test_each_inline_statement_has_a_shape(latex: str, kind: str) -> None:
    found = shape(latex)
    assert found is not None and found.kind == kind


@pytest.mark.parametrize("latex", ["P(X > x)", "x^2 + 1", "\\{1, \\dots, n\\}"])
def test_math_with_no_top_level_relation_states_nothing(latex: str) -> None:
    assert shape(latex) is None


RIGHT = [
    paragraph(r"Centre: $\sigma(0) = \frac{1}{2}$, slope $\sigma'(0) = \frac{1}{4}$.", SIGMOID),
    paragraph(
        r"Then $\sigma'(x) = \sigma(x)(1 - \sigma(x)) \le \frac{1}{4}$ for $x > 0$.", SIGMOID
    ),
    paragraph(
        r"Log loss: $\frac{dJ}{dp} = \frac{p - y}{p(1-p)}$ and $\frac{d}{dp} \log p = 1/p$.",
        "where p \\in (0, 1), y \\in [0, 1]\nlet J = -(y \\log p + (1 - y)\\log(1 - p))",
    ),
    paragraph(
        r"Geometric: $\mathbb{E}[N] = 1/p$ over $n$ trials.",
        "where p \\in (0, 1], n \\in \\mathbb{Z}_{>0}\n"
        "let \\mathbb{E}[N] = \\sum_{n=1}^{\\infty} n (1 - p)^{n - 1} p",
    ),
    paragraph(r"Pareto: $\alpha \approx 1.16$.", "let \\alpha = \\frac{\\log 5}{\\log 4}"),
    paragraph(r"Second: $f''(x) = 6x$.", "where x \\in \\mathbb{R}\nlet f(x) = x^3"),
]
WRONG = [
    (
        paragraph(r"Centre: $\sigma(0) = \frac{1}{3}$.", SIGMOID),
        r"identity '\\sigma\(0\) = \\frac\{1\}\{3\}' fails: .* gives 1/2",
    ),
    (
        paragraph(r"Slope: $\sigma'(x) = \sigma(x)(1 + \sigma(x))$.", SIGMOID),
        r"identity .* fails: at x=",
    ),
    (
        paragraph(
            r"Log loss: $\frac{dJ}{dp} = \frac{y - p}{p(1-p)}$.",
            "where p \\in (0, 1), y \\in [0, 1]\nlet J = -(y \\log p + (1 - y)\\log(1 - p))",
        ),
        r"identity .* fails: at ",
    ),
    (
        paragraph(r"Pareto: $\alpha \approx 1.26$.", "let \\alpha = \\frac{\\log 5}{\\log 4}"),
        "round",
    ),
    (paragraph(r"Second: $f''(x) = 3x$.", "where x \\in \\mathbb{R}\nlet f(x) = x^3"), "fails"),
]


def test_claims_in_a_paragraph_are_checked_by_the_block_under_it(project: Path) -> None:
    write_cards(project, RIGHT)
    result = deckgen("verify")
    assert result.exit_code == 0, result.output
    row = counts(result.output)
    assert (row["inline"], row["notation"], row["failed"], row["unverified"]) == (8, 1, 0, 0)
    assert row["claims"] == 9  # the chain `= ... \le` is two claims


@pytest.mark.parametrize(("text", "message"), WRONG, ids=[m for _, m in WRONG])
def test_a_false_claim_in_a_paragraph_fails_the_build_at_its_line(
    project: Path, text: str, message: str
) -> None:
    (line,) = write_cards(project, [text])
    result = deckgen("build", "--only", "apkg")
    assert result.exit_code == 1
    assert re.search(rf"^cards/checks.md:{line}: .*{message}", result.output, re.M), result.output


def test_conditions_and_definitions_need_no_block(project: Path) -> None:
    write_cards(
        project,
        [
            r"For $n \ge 30$ and $p = 1/2$, with $Z = (\bar{X} - \mu)/\sigma$ and "
            r"$X \sim N(0, 1)$, as $n \to \infty$."
        ],
    )
    result = deckgen("verify")
    assert result.exit_code == 0, result.output
    row = counts(result.output)
    assert (row["notation"], row["inline"], row["unverified"]) == (5, 0, 0)


def test_an_unchecked_claim_is_unverified_and_fails_only_strict_verification(
    project: Path,
) -> None:
    (line,) = write_cards(project, [r"Its variance is $\operatorname{Var}(\bar{X}) = \sigma^2/n$."])
    loose = deckgen("verify")
    assert loose.exit_code == 0, loose.output
    assert counts(loose.output)["unverified"] == 1
    message = rf"cards/checks.md:{line}: inline statement '.*' is unverified: add a verify block"
    assert re.search(message, loose.output)
    assert deckgen("build", "--only", "apkg").exit_code == 0
    strict = deckgen("verify", "--strict")
    assert strict.exit_code == 1 and re.search(message, strict.output)


def test_given_marks_a_hypothesis_and_must_name_a_statement_of_the_paragraph(
    project: Path,
) -> None:
    write_cards(project, [paragraph(r"For events with $P(B) > 0$, it holds.", "given: P(B) > 0")])
    result = deckgen("verify")
    assert result.exit_code == 0, result.output
    assert (counts(result.output)["notation"], counts(result.output)["unverified"]) == (1, 0)
    (line,) = write_cards(
        project, [paragraph(r"For events with $P(B) > 0$, it holds.", "given: P(C) > 0")]
    )
    result = deckgen("verify")
    assert result.exit_code == 1
    expected = f"cards/checks.md:{line + 3}: given: 'P(C) > 0' is not a statement of the paragraph"
    assert expected in result.output


@pytest.mark.parametrize(
    ("text", "block", "offset", "message"),
    [
        (
            r"Plain $x^2$ text.",
            "where x \\in \\mathbb{R}",
            3,
            "states nothing for this verify block",
        ),
        (r"It is $\sigma(0) = 1/2$.", SIGMOID + "\nholds: 1 = 1", 5, "takes where, let and given"),
        (r"It is $x^2 + 1 = w + 1$.", "where x \\in \\mathbb{R}", 0, "'w' is not declared"),
        (r"It is $x = 1$.", "where x \\in \\mathbb{R}\nlet g = 2", 3, "`let g` is never used"),
    ],
)
def test_a_paragraph_block_that_does_not_fit_its_paragraph_is_an_error(
    project: Path, text: str, block: str, offset: int, message: str
) -> None:
    (line,) = write_cards(project, [paragraph(text, block)])
    result = deckgen("build", "--only", "apkg")
    assert result.exit_code == 1
    assert re.search(rf"^cards/checks.md:{line + offset}: .*{message}", result.output, re.M), (
        result.output
    )


def test_a_rebuild_from_the_render_cache_keeps_the_paragraph_block(project: Path) -> None:
    (line,) = write_cards(project, [paragraph(r"Centre: $\sigma(0) = \frac{1}{3}$.", SIGMOID)])
    for _ in range(2):  # the second build reads the card's rendering from the cache
        result = deckgen("build", "--only", "apkg")
        assert result.exit_code == 1
        assert f"cards/checks.md:{line}: identity" in result.output


def test_a_power_of_zero_in_a_sum_is_not_a_false_alarm(project: Path) -> None:
    # at p = 1 the first term is 1 * 0^0 = 1; SymPy alone sums 0^(n-1) to 0
    write_cards(
        project,
        [
            paragraph(
                r"$\sum_{n=1}^{\infty} n (1 - p)^{n - 1} p = 1/p$",
                "where p \\in (0, 1], n \\in \\mathbb{Z}_{>0}",
            )
        ],
    )
    result = deckgen("verify")
    assert result.exit_code == 0, result.output
