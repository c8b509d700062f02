"""Formula verification: each claim kind passes on a right formula and fails, with its place and a
counterexample, on a wrong one; hostile input is refused or stopped; results are cached."""

from __future__ import annotations

import logging
import re
import shutil
from dataclasses import dataclass
from pathlib import Path

import pytest
from conftest import deckgen

from deckgen import verify
from deckgen.claims import read_spec
from deckgen.errors import SourceLoc


@dataclass(frozen=True)
class Case:
    """A formula with its verify block, right, and the same made wrong."""

    name: str
    right: str
    wrong: str
    message: str  # what the failure says (a regular expression)


def card(formula: str, block: str) -> str:
    return f"$${formula}$$\n\n```verify\n{block.strip()}\n```\n"


POISSON = r"P(X = k) = \frac{\lambda^k e^{-\lambda}}{k!}, \qquad k = 0, 1, 2, \dots"
POISSON_CLAIMS = "where \\lambda > 0\npmf k: P(X = k)\n"
GEOMETRIC = r"P(X = k) = (1-p)^{k-1}\,p, \qquad k = 1, 2, \dots"
BINOMIAL = r"P(X = k) = \binom{n}{k} p^k (1-p)^{n-k}, \qquad k = 0, 1, \dots, n"
BINOMIAL_WHERE = "where n \\in \\mathbb{Z}_{>0}, p \\in (0, 1)\npmf k: P(X = k)\n"
NORMAL = (
    r"f(x) = \frac{1}{\sigma\sqrt{2\pi}} \exp\left(-\frac{(x-\mu)^2}{2\sigma^2}\right), "
    r"\qquad x \in \mathbb{R}"
)
NORMAL_WHERE = "where \\mu \\in \\mathbb{R}, \\sigma > 0\npdf x: f(x)\n"
F1 = r"F_1 = \frac{2PR}{P + R}"
F1_WHERE = (
    "where TP, FP, FN \\in \\mathbb{Z}_{>0}\n"
    "let P = \\frac{TP}{TP + FP}\nlet R = \\frac{TP}{TP + FN}\n"
)
GINI = r"G = 1 - p^2 - (1-p)^2"
SIGMOID = r"\sigma(x) = \frac{1}{1 + e^{-x}}"
DIE = r"P(X = 2) = \binom{3}{2}\left(\frac{1}{6}\right)^2 \frac{5}{6}"
GINI_BOUND = r"0 \le G \le \frac{1}{3}"
THIRD = r"\frac{1}{3}"
NUM = r"-?\d+(/\d+)?"  # an exact number: 3, -2 or 9/49
POINT = rf"at [^ ]+={NUM}"  # a counterexample: at λ=3/7 ...

CASES = [
    Case(
        "pmf sums to 1",
        card(POISSON, POISSON_CLAIMS),
        card(POISSON.replace("e^{-\\lambda}", "e^{\\lambda}"), POISSON_CLAIMS),
        rf"pmf: {POINT} the sum over k gives exp\(\d+(/\d+)?\), claimed 1",
    ),
    Case(
        "mean of a pmf",
        card(POISSON, POISSON_CLAIMS + "mean: \\lambda"),
        card(POISSON, POISSON_CLAIMS + "mean: \\lambda^2"),
        rf"mean: {POINT} the sum gives {NUM}, claimed {NUM}",
    ),
    Case(
        "variance of a pmf",
        card(GEOMETRIC, "where p \\in (0, 1)\npmf k: P(X = k)\nvariance: \\frac{1-p}{p^2}"),
        card(GEOMETRIC, "where p \\in (0, 1)\npmf k: P(X = k)\nvariance: \\frac{1-p}{p}"),
        rf"variance: {POINT} the sum gives -?\d+(/\d+)?, claimed -?\d+(/\d+)?",
    ),
    Case(
        "mean compared with sympy.stats",
        card(BINOMIAL, BINOMIAL_WHERE + "dist: Binomial(n, p)\nmean: np"),
        card(BINOMIAL, BINOMIAL_WHERE + "dist: Binomial(n, p)\nmean: n(1-p)"),
        rf"mean: {POINT}, p={NUM} the sum gives",
    ),
    Case(
        "pmf matches sympy.stats",
        card(BINOMIAL, BINOMIAL_WHERE + "dist: Binomial(n, p)"),
        card(BINOMIAL, BINOMIAL_WHERE + "dist: Binomial(n, 1 - p)"),
        rf"dist: {POINT}.* the formula gives {NUM}, sympy.stats {NUM}",
    ),
    Case(
        "pdf integrates to 1, mean and variance",
        card(NORMAL, NORMAL_WHERE + "mean: \\mu\nvariance: \\sigma^2\ndist: Normal(\\mu, \\sigma)"),
        card(NORMAL.replace("{2\\sigma^2}", "{\\sigma^2}"), NORMAL_WHERE),
        rf"pdf: {POINT}, σ={NUM} the integral over x gives 0\.707107, claimed 1",
    ),
    Case(
        "identity in the formula",
        card(
            r"\binom{n}{k} = \frac{n!}{k!\,(n-k)!}, \qquad 0 \le k \le n",
            "where n, k \\in \\mathbb{Z}_{\\ge 0}",
        ),
        card(
            r"\binom{n}{k} = \frac{n!}{(n-k)!}, \qquad 0 \le k \le n",
            "where n, k \\in \\mathbb{Z}_{\\ge 0}",
        ),
        r"identity '.*' fails: at (n|k)=\d+, (n|k)=\d+ the left side gives \d+, "
        r"which should equal \d+",
    ),
    Case(
        "identity whose left side opens with a bracket",  # not a condition like (i \ne j)
        card(
            r"(x + y)^2 + (x - y)^2 = 2(x^2 + y^2)",
            "where x, y \\in \\mathbb{R}\nholds: x^2 \\ge 0",
        ),
        card(r"(x + y)^2 = 2(x^2 + y^2)", "where x, y \\in \\mathbb{R}\nholds: x^2 \\ge 0"),
        rf"identity '\(x \+ y\)\^2 = .*' fails: at x={NUM}, y={NUM} the left side gives",
    ),
    Case(
        "equivalent definitions",
        card(F1, F1_WHERE + "holds: F_1 = \\frac{2TP}{2TP + FP + FN}"),
        card(F1, F1_WHERE + "holds: F_1 = \\frac{2TP}{2TP + FP}"),
        r"identity 'F_1 = .*' fails: at FN=\d+, FP=\d+, TP=\d+ the left side gives",
    ),
    Case(
        "exact value of a worked problem",
        card(DIE, "value: \\frac{5}{72}"),
        card(DIE, "value: \\frac{5}{36}"),
        r"value: the formula gives 5/72, claimed 5/36",
    ),
    Case(
        "approximation to the decimals shown",
        card(DIE + r" \approx 0.069", "value: \\frac{5}{72}"),
        card(DIE + r" \approx 0.067", "value: \\frac{5}{72}"),
        r"approximation '.*' fails: the left side gives 5/72, which should round to 67/1000",
    ),
    Case(
        "derivative",
        card(SIGMOID, "where x \\in \\mathbb{R}\nderivative x: \\sigma(x)(1 - \\sigma(x))"),
        card(SIGMOID, "where x \\in \\mathbb{R}\nderivative x: \\sigma(x)(1 + \\sigma(x))"),
        rf"derivative: {POINT} the derivative gives .*, claimed",
    ),
    Case(
        "bound",
        card(GINI, "where p \\in [0, 1]\nholds: 0 \\le G \\le \\frac{1}{2}"),
        card(GINI, "where p \\in [0, 1]\nholds: " + GINI_BOUND),
        rf"bound '{re.escape(GINI_BOUND)}' fails: {POINT} the left side gives {NUM}, "
        r"which should be at most 1/3",
    ),
    Case(
        "maximum",
        card(GINI, "where p \\in [0, 1]\nmax: \\frac{1}{2}"),
        card(GINI, "where p \\in [0, 1]\nmax: \\frac{1}{4}"),
        rf"max: {POINT} the formula gives {NUM}, more than claimed \(1/4\)",
    ),
    Case(
        "where the maximum is",
        card(GINI, "where p \\in [0, 1]\nargmax p: \\frac{1}{2}"),
        card(GINI, "where p \\in [0, 1]\nargmax p: \\frac{1}{3}"),
        # whichever comes first: a point above the claimed maximum, or the slope there
        rf"argmax: ({POINT} the formula gives {NUM}, more than at p={re.escape(THIRD)} \(4/9\)"
        rf"|the slope at p={re.escape(THIRD)} gives 2/3, claimed 0)",
    ),
]


def deck_of(formulas: list[str]) -> tuple[str, list[int]]:
    """A card file with one card per formula, and the line of each formula."""
    text, lines = "---\ndeck: Checks\n---\n\n", []
    for n, formula in enumerate(formulas):
        text += f"## Check {n} {{#check-{n}}}\n\nA:\n\n"
        lines.append(text.count("\n") + 1)
        text += formula + "\n"
    return text, lines


def counts(output: str, first: str = "cards/checks.md") -> dict[str, int]:
    """The `deckgen verify` table's row that starts with `first`, by column heading."""
    lines = output.splitlines()
    header = next(line for line in lines if line.startswith("file")).split()
    row = next(line for line in lines if line.startswith(first)).split()
    return dict(zip(header[1:], map(int, row[1:]), strict=True))


def write_cards(project: Path, formulas: list[str]) -> list[int]:
    text, lines = deck_of(formulas)
    (project / "cards/checks.md").write_text(text, encoding="utf-8")
    return lines


def test_every_claim_kind_passes_on_a_right_formula(project: Path) -> None:
    write_cards(project, [case.right for case in CASES])
    result = deckgen("verify")
    assert result.exit_code == 0, result.output
    row = counts(result.output)
    assert (row["formulas"], row["failed"], row["undecided"]) == (len(CASES), 0, 0)
    assert row["proved"] + row["numeric"] == row["claims"] >= len(CASES)


def test_every_claim_kind_fails_on_a_wrong_formula_at_its_line(project: Path) -> None:
    lines = write_cards(project, [case.wrong for case in CASES])
    result = deckgen("verify")
    assert result.exit_code == 1
    for case, line in zip(CASES, lines, strict=True):
        places = tuple(f"cards/checks.md:{n}:" for n in range(line, line + 10))
        reported = [m for m in result.output.splitlines() if m.startswith(places)]
        assert any(re.search(case.message, m) for m in reported), (case.name, reported)


def test_the_seeds_poisson_typo_is_caught_at_lambda(project: Path) -> None:
    seed = r"P(X=k)=\frac{\lambda^ke^{-lambda}}{k!}"  # exactly as the seed notes wrote it
    claims = "where \\lambda > 0, k \\in \\mathbb{Z}_{\\ge 0}\npmf k: P(X=k)\nmean: \\lambda"
    (line,) = write_cards(project, [card(seed, claims)])
    result = deckgen("build")
    assert result.exit_code == 1
    message = "'lambda' is not declared: write \\lambda for the Greek letter"
    assert f"cards/checks.md:{line}: {message}" in result.output
    assert not list(project.glob("build/*.apkg"))


def test_build_fails_on_a_wrong_formula_and_names_the_claim(project: Path) -> None:
    (line,) = write_cards(project, [CASES[1].wrong])
    result = deckgen("build")
    assert result.exit_code == 1
    assert re.search(rf"cards/checks.md:{line + 5}: mean: at λ=", result.output)


def test_a_formula_without_a_verify_block_is_an_error(project: Path) -> None:
    (line,) = write_cards(project, ["$$a + b$$\n"])
    result = deckgen("check")
    assert result.exit_code == 1
    assert f"cards/checks.md:{line}: formula has no verify block" in result.output


def test_strict_fails_on_formulas_marked_unverified(project: Path) -> None:
    assert deckgen("verify").exit_code == 0  # the test deck marks its matrix `unverified`
    result = deckgen("verify", "--strict")
    assert result.exit_code == 1
    assert "cards/01-statistics.md:29: formula is unverified: a matrix layout" in result.output


@pytest.mark.parametrize(
    ("formula", "block", "message"),
    [
        ("a = b", "where a \\in \\mathbb{R}", "'b' is not declared"),
        ("TP = T P", "where T, P, TP \\in \\mathbb{R}", "'TP' could also be read as a product"),
        ("n = n", "where n \\in \\mathbb{N}", "\\mathbb{N} starts at 0 for some readers"),
        ("x = x", "where x \\in \\mathbb{R}\nsums: 1", "unknown verify line 'sums: 1'"),
        ("\\mathbb{E}[X] = 1", "where p \\in (0, 1)\nmean: p", "'mean' needs a `pmf` or `pdf`"),
        ("x = \\frobnicate{x}", "where x \\in \\mathbb{R}", "cannot check \\frobnicate"),
        ("P = x", "where x \\in \\mathbb{R}", "verify block makes no claim"),
        ("x", "where x \\in \\mathbb{R}", "states nothing to check"),
        ("\\sum_{i=1}^n x_i = 0", "where n, x_i \\in \\mathbb{R}", "'x_i' runs over i"),
        ("x = " + "(" * 70 + "x" + ")" * 70, "where x \\in \\mathbb{R}", "deeper than 60"),
        ("x = 1" + "0" * 40, "where x \\in \\mathbb{R}", "more than 30 digits"),
    ],
)
def test_unreadable_claims_are_errors(formula: str, block: str, message: str) -> None:
    lines = [(text, SourceLoc(Path("c.md"), 3 + n)) for n, text in enumerate(block.splitlines())]
    spec, problems = read_spec(formula, SourceLoc(Path("c.md"), 1), lines)
    assert spec is None
    assert any(message in problem.message for problem in problems), problems


@pytest.mark.parametrize(
    ("formula", "message"),
    [
        ("10^{10^{10}} = 1", "the power 10^10000000000 is too large to check"),
        ("(10^{5})! = 1", "the factorial of 100000 is too large to check"),
    ],
)
def test_hostile_numbers_are_refused(project: Path, formula: str, message: str) -> None:
    (line,) = write_cards(project, [card(formula, "value: 1")])
    result = deckgen("verify")
    assert result.exit_code == 1
    assert f"cards/checks.md:{line}: identity: {message}" in result.output


def test_a_hostile_power_of_ten_in_an_approximation_is_refused(project: Path) -> None:
    (line,) = write_cards(project, [r"Huge: $2^{10} \approx 1.0 \cdot 10^{99999}$."])
    result = deckgen("verify")
    assert result.exit_code == 1
    assert (
        f"cards/checks.md:{line}: approximation: the power 10^99999 is too large" in result.output
    )


SLOW = r"\sum_{k=1}^{10^{7}} \frac{1}{k^3 + 1} = 1"  # ten million exact fractions


def test_a_claim_past_the_time_limit_is_stopped_and_undecided() -> None:
    spec, problems = read_spec(
        SLOW, SourceLoc(Path("c.md"), 1), [("value: 1", SourceLoc(Path("c.md"), 3))]
    )
    assert spec is not None, problems
    job = verify.Job(spec, 0, "0" * 64)
    (outcome,) = verify.run([job], workers=1, limit=2).values()
    assert outcome["status"] == "undecided"  # not known to be false
    assert "identity: undecided: stopped after 2 s" in outcome["message"]


def test_an_undecided_claim_warns_in_the_build_and_fails_strict_verification(
    project: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    monkeypatch.setattr(verify, "TIME_LIMIT", 2)
    (line,) = write_cards(project, [card(SLOW, "value: 1")])
    message = f"cards/checks.md:{line + 3}: value: undecided: stopped after 2 s"
    with caplog.at_level(logging.WARNING):
        built = deckgen("build", "--only", "apkg")
    assert built.exit_code == 0, built.output
    assert message in caplog.text
    caplog.clear()
    with caplog.at_level(logging.WARNING):
        assert deckgen("check").exit_code == 0
    assert message in caplog.text
    checked = deckgen("verify")
    assert checked.exit_code == 0 and message in checked.output
    row = counts(checked.output)  # the `= 1` and `value: 1`
    assert (row["formulas"], row["claims"], row["undecided"], row["proved"]) == (1, 2, 2, 0)
    strict = deckgen("verify", "--strict")
    assert strict.exit_code == 1 and message in strict.output


def test_results_are_cached_and_an_edit_rechecks_only_its_claims(project: Path) -> None:
    write_cards(project, [case.right for case in CASES[:3]])
    first = deckgen("verify")
    assert first.exit_code == 0, first.output
    checked = int(re.search(r"(\d+) claims checked", first.output).group(1))  # type: ignore[union-attr]
    assert checked >= 3
    assert f"0 claims checked, {checked} from the cache" in deckgen("verify").output
    edited = CASES[2].right.replace("p^2", "p \\cdot p")
    write_cards(project, [CASES[0].right, CASES[1].right, edited])
    third = deckgen("verify").output  # the edited formula has two claims: pmf and variance
    assert f"2 claims checked, {checked - 2} from the cache" in third


def renamed(formula: str, old: str, new: str) -> str:
    return formula.replace(old, new)


def test_claims_that_differ_only_in_names_are_checked_once(
    project: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The same Poisson pmf in lambda, mu and nu: one SymPy check answers for all three."""
    cards = [renamed(CASES[1].right, "\\lambda", name) for name in ("\\lambda", "\\mu", "\\nu")]
    write_cards(project, cards)
    given: list[int] = []
    real_run = verify.run

    def counted(jobs: list[verify.Job], *args: object, **kwargs: object) -> object:
        given.append(len(jobs))
        return real_run(jobs, *args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(verify, "run", counted)
    result = deckgen("verify")
    assert result.exit_code == 0, result.output
    checked = int(re.search(r"(\d+) claims checked", result.output).group(1))  # type: ignore[union-attr]
    assert given[0] == checked - 4  # pmf and mean once, not three times (the deck has more)


def test_a_wrong_claim_shared_by_names_fails_at_each_card_in_its_own_names(project: Path) -> None:
    cards = [renamed(CASES[1].wrong, "\\lambda", name) for name in ("\\lambda", "\\mu")]
    first, second = write_cards(project, cards)
    result = deckgen("verify")
    assert result.exit_code == 1
    assert re.search(rf"cards/checks.md:{first + 5}: mean: at λ=", result.output)
    assert re.search(rf"cards/checks.md:{second + 5}: mean: at μ=", result.output)


def test_a_verify_block_away_from_its_formula_is_an_error(project: Path) -> None:
    (line,) = write_cards(
        project, ["$$a + b$$\n\nText between.\n\n```verify\nwhere a, b \\in \\mathbb{R}\n```\n"]
    )
    result = deckgen("build")
    assert result.exit_code == 1
    message = (
        "a verify block must come right after the $$ formula it checks, "
        "or after the paragraph whose inline math it checks"
    )
    assert f"cards/checks.md:{line + 4}: {message}" in result.output


def test_the_shipped_deck_passes_strict_verification(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    shutil.copytree(Path(__file__).parent.parent / "cards", tmp_path / "cards")
    monkeypatch.chdir(tmp_path)
    result = deckgen("verify", "--strict")
    assert result.exit_code == 0, result.output
    total = counts(result.output, "total")
    assert total["failed"] == total["undecided"] == total["unverified"] == 0
    assert total["proved"] + total["numeric"] == total["claims"]
    # one fact per card: many formulas state one thing, some several (a pmf, its mean, its sum)
    assert total["claims"] >= 1.5 * (total["formulas"] + total["inline"]) >= 150
    assert total["inline"] >= 40  # inline statements with claims, numbers alone or in a block


CLOSED_RIGHT = [
    r"Two ways: $99/594 = 1/6$.",
    r"Seven heads: $\binom{10}{7}/2^{10} = 15/128 \approx 0.117$.",
    r"Twenty tests: $1 - 0.95^{20} \approx 0.64$, and $e^{-1} \approx 0.368 < 1/2$.",
    r"As percentages: $1/6 \approx 16.7\%$ and $1/20 = 5\%$.",
    r"Ten layers: $0.0256^{10} \approx 1.2 \cdot 10^{-16}$.",
    r"Twenty: $3^{20} \approx 3.5 \times 10^9$.",
]
CLOSED_WRONG = [
    (r"Two ways: $99/594 = 1/5$.", r"identity '99/594 = 1/5' fails: .* gives 1/6"),
    (r"Twenty tests: $1 - 0.95^{20} \approx 0.65$.", r"gives 0\.641514, .* round to 13/20"),
    (r"Seven heads: $\binom{10}{7}/2^{10} = 15/128 \approx 0.118$.", r"should round to 59/500"),
    (r"Half: $e^{-1} > 1/2$.", r"bound 'e\^\{-1\} > 1/2' fails"),
    (r"A sixth: $1/6 \approx 16.8\%$.", r"should round to 21/125"),
    # in scientific notation the mantissa's decimals are the precision: 1.26 is not 1.2
    (r"Ten layers: $0.0257^{10} \approx 1.2 \cdot 10^{-16}$.", r"÷ 10\^-16 gives 1\.25\d*, .*6/5"),
    (r"Twenty: $3^{20} \approx 3.5 \times 10^{8}$.", r"÷ 10\^8 gives 3486784401/100000000, .*7/2"),
]


def test_inline_statements_about_numbers_alone_are_checked_without_a_block(
    project: Path,
) -> None:
    write_cards(project, [*CLOSED_RIGHT, r"With symbols, $n = 30$ and $p < 0.05$ are not checked."])
    result = deckgen("verify")
    assert result.exit_code == 0, result.output
    row = counts(result.output)  # 0.368 < 1/2 is a claim of its own
    assert (row["inline"], row["notation"], row["claims"], row["failed"]) == (8, 2, 10, 0)


@pytest.mark.parametrize(("text", "message"), CLOSED_WRONG, ids=[m for _, m in CLOSED_WRONG])
def test_a_false_inline_statement_fails_the_build_at_its_line(
    project: Path, text: str, message: str
) -> None:
    (line,) = write_cards(project, [text])
    result = deckgen("build")
    assert result.exit_code == 1
    assert re.search(rf"^cards/checks.md:{line}: .*{message}", result.output, re.M), result.output


NOTATION = [  # right, wrong: closed statements in the notation of probability references
    (r"${10 \choose 7} = 120$", r"${10 \choose 7} = 720$"),
    (r"$\sum^{3}_{j=1} j = 6$", r"$\sum^{3}_{j=1} j = 5$"),
    (r"$\lfloor 7/2 \rfloor = 3$", r"$\lfloor 7/2 \rfloor = 4$"),
    (r"$\lceil 7/2 \rceil = 4$", r"$\lceil 7/2 \rceil = 3$"),
    (r"$\log_2 8 = 3$", r"$\log_2 8 = 2$"),
    (r"$|{-3}| = 3 \le |{-5}|$", r"$|{-3}| = -3$"),
]


@pytest.mark.parametrize(("right", "wrong"), NOTATION, ids=[right for right, _ in NOTATION])
def test_notation_of_probability_references_is_checked(
    project: Path, right: str, wrong: str
) -> None:
    write_cards(project, [f"Right: {right}."])
    result = deckgen("verify")
    assert result.exit_code == 0, result.output
    assert "0 claims checked" not in result.output
    (line,) = write_cards(project, [f"Wrong: {wrong}."])
    result = deckgen("verify")
    assert result.exit_code == 1
    assert re.search(rf"^cards/checks.md:{line}: identity .* fails", result.output, re.M)


EDGE_CASES = [  # true only away from an end of the range: a few random points may miss that
    ("|x| \\le 5", "where x \\in [-6, 6]", "x=-6"),
    ("x^2 \\le 10x", "where x \\in [0, 11]", "x=11"),
    ("\\frac{n}{n+1} < 0.9", "where n \\in \\mathbb{Z}_{>0}", "n=11"),
]


@pytest.mark.parametrize(("formula", "where", "at"), EDGE_CASES, ids=[c[0] for c in EDGE_CASES])
def test_a_bound_that_fails_only_at_the_end_of_its_range_is_caught_there(
    project: Path, formula: str, where: str, at: str
) -> None:
    (line,) = write_cards(project, [card(formula, where)])
    result = deckgen("verify")
    assert result.exit_code == 1
    assert re.search(rf"^cards/checks.md:{line}: bound .* fails: at {at} ", result.output, re.M)


def test_the_ends_of_open_ranges_raise_no_false_alarm(project: Path) -> None:
    true_near_the_ends = [
        card("\\frac{1}{p} > 1", "where p \\in (0, 1)"),
        card("\\log(1 - p) < 0", "where p \\in (0, 1)"),
        card("e^{-x} \\le 1", "where x \\ge 0"),
        card("\\frac{k}{k + 1} < 1", "where k \\in \\mathbb{Z}_{\\ge 0}"),
    ]
    write_cards(project, true_near_the_ends)
    result = deckgen("verify")
    assert result.exit_code == 0, result.output


def test_a_range_with_an_irrational_end_is_drawn_from(project: Path) -> None:
    where = "where p \\in (0, 1), 0 < t < -\\log(1 - p)"  # random points used to crash here
    write_cards(project, [card("e^{-t} > 1 - p", where)])
    result = deckgen("verify")
    assert result.exit_code == 0, result.output
    (line,) = write_cards(project, [card("e^{-t} < 1 - p", where)])
    result = deckgen("verify")
    assert result.exit_code == 1
    assert re.search(rf"^cards/checks.md:{line}: bound .* fails: at p=", result.output, re.M)
