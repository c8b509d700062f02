"""Mutation test: break every verified formula of the shipped deck, display and inline, in the
ways typos break formulas; verification must notice at least 97% of the broken copies."""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from deckgen import verify
from deckgen.build import load
from deckgen.claims import Spec, Statement, read_paragraph, read_spec
from deckgen.markup import DisplayFormula, InlineFormula, display_formulas
from deckgen.statements import shape

SHIPPED = Path(__file__).parent.parent / "cards"
GREEK = re.compile(
    r"\\(alpha|beta|gamma|delta|epsilon|varepsilon|theta|lambda|mu|nu|pi|rho|sigma|tau|phi|chi|psi|omega)(?![A-Za-z])"
)

# Mutants that verification cannot kill because they are mathematically the same formula.
# Key: (file name, mutation); value: why the mutant equals the original.
EQUAL: dict[tuple[str, str], str] = {
    ("04-central-limit-theorem.md", "fraction at 202"): "Var/(σ²/n) = 1 and its reciprocal = 1",
    ("10-discrete-distributions.md", "mean and variance swapped"): "Poisson: both are λ",
    ("07-mle-regression.md", "sign at 34"): "Σ(xᵢ + x̄)(yᵢ − ȳ) = Σ(xᵢ − x̄)(yᵢ − ȳ): Σ(yᵢ − ȳ) = 0",
    ("07-mle-regression.md", "sign at 49"): "Σ(xᵢ − x̄)(yᵢ + ȳ) = Σ(xᵢ − x̄)(yᵢ − ȳ): Σ(xᵢ − x̄) = 0",
    ("11-worked-problems.md", "factorial at 15"): "2! = 2",
    ("11-worked-problems.md", "factorial at 19"): "1! = 1",
    ("08-probability-and-counting.md", "digit at 10"): "C(5,2) = C(5,3) and C(7,3) = C(7,4)",
    ("11-worked-problems.md", "digit at 5"): "91/217 ≈ 0.419 also rounds to the 0.42 shown",
    ("11-worked-problems.md", "digit at 7"): "294/1616 ≈ 0.1819 also rounds to the 0.182 shown",
    ("04-random-forests.md", "exponent at 48"): "(1 - 1/n)^(n+1) has the same limit, 1/e",
    ("05-cross-validation.md", "sign at 18"): "Z_1, Z_2 iid symmetric: max(s - σZ_1, s + σZ_2) "
    "has the same law as max(s + σZ_1, s + σZ_2)",
    ("05-cross-validation.md", "sign at 34"): "the same, with Z_2's sign flipped",
    (
        "16-recommendation-systems.md",
        "sign at 39",
    ): "Σ(uⱼ + ū)(vⱼ − v̄) = Σ(uⱼ − ū)(vⱼ − v̄): Σ(vⱼ − v̄) = 0",
    (
        "16-recommendation-systems.md",
        "sign at 54",
    ): "Σ(uⱼ − ū)(vⱼ + v̄) = Σ(uⱼ − ū)(vⱼ − v̄): Σ(uⱼ − ū) = 0",
    ("08-classification-metrics.md", "exponent at 12"): "β = 1: 1^3 = 1^2",
    ("08-classification-metrics.md", "exponent at 22"): "β = 1: 1^3 = 1^2",
    ("13-k-nearest-neighbours.md", "exponent at 7"): "1^3 = 1^2",
    ("13-k-nearest-neighbours.md", "digit at 8"): "1^3 = 1^2",
    ("13-k-nearest-neighbours.md", "digit at 5"): "max(4, 4) = max(3, 4) = 4",
    ("13-k-nearest-neighbours.md", "exponent at 27"): "(4^(p+1) + 3^p)^(1/p) also tends to 4",
    ("13-k-nearest-neighbours.md", "exponent at 33"): "(4^p + 3^(p+1))^(1/p) also tends to 4",
    ("15-support-vector-machines.md", "sign at 35"): "(2 + 0)^2 = (2 - 0)^2",
    ("24-pca.md", "sign at 26"): "the sign of the cross term flips with θ → π − θ: the same "
    "maximum and minimum over [0, π]",
    ("24-pca.md", "backslash at 2"): "`theta` without its backslash names the same θ",
    ("22-probability-calibration.md", "sign at 3"): "1 - 0 + 0 = 1 + 0 + 0",
    ("22-probability-calibration.md", "sign at 7"): "1 + 0 - 0 = 1 + 0 + 0",
    ("23-data-leakage.md", "digit at 15"): "C(100, 101) = 0: the sum to 101 equals the sum to 100",
    ("25-k-means.md", "sign at 6"): "- 0 = + 0",
    ("25-k-means.md", "sign at 16"): "- 0 = + 0",
    ("08-vanishing-exploding-gradients.md", "fraction at 53"): "σ' is even: ln((1+r)/(1-r)) and "
    "ln((1-r)/(1+r)) give the same slope",
    ("09-batch-normalisation.md", "fraction at 0"): "the values sum to 0: m · 0 = (1/m) · 0",
    (
        "02-weight-initialisation.md",
        "sign at 27 of '\\mathbb{E}\\big[(\\max(0, z) + a\\min(0, z))^2\\big] = "
        "\\frac{1 + a^2}{2}\\operatorname{Var}(z)'",
    ): "max(0, z) min(0, z) = 0: the cross term vanishes with either sign",
    # the floor of an output size absorbs a change of one in an odd numerator
    ("04-padding-and-output-size.md", "sign at 12"): "padding 0: 32 + 0 - 5 = 32 - 0 - 5",
    ("04-padding-and-output-size.md", "digit at 18"): "⌊31/2⌋ = ⌊30/2⌋ = 15",
    ("04-padding-and-output-size.md", "digit at 14"): "⌊29/2⌋ = ⌊28/2⌋ = 14",
    ("04-padding-and-output-size.md", "digit at 19"): "⌊223/2⌋ = ⌊222/2⌋ and ⌊111/2⌋ = ⌊110/2⌋",
    ("04-padding-and-output-size.md", "digit at 13"): "⌊5/2⌋ = ⌊4/2⌋ = 2",
    ("04-padding-and-output-size.md", "digit at 8"): "⌈5/2⌉ = ⌈6/2⌉ = 3",
    ("14-dropout.md", "digit at 11"): "⌊1001 log₁₀ 2⌋ = ⌊1000 log₁₀ 2⌋ = 301",
    # a one-hot vector's zeros multiply the other rows away: that is the card's point
    ("17-embeddings.md", "sign at 26"): "0 · (−0.7) either way",
    ("17-embeddings.md", "sign at 37"): "0 · (±0.7) either way",
    ("17-embeddings.md", "digit at 10"): "0 · 0.3 = 0 · 0.2 and 0 · (−2) = 0 · (−1)",
    ("17-embeddings.md", "digit at 40"): "0 · (−0.8) = 0 · (−0.7)",
    ("17-embeddings.md", "sign at 9"): "0 · (±1) either way",
    ("17-embeddings.md", "sign at 27"): "0 · 0.9 added or taken away",
    ("17-embeddings.md", "digit at 39"): "0 · 0.8 = 0 · 0.9",
}
# Mutants that remain true statements, though not the same formula: a weaker bound, or a
# comparison or rounding that the changed number still satisfies.
STILL_TRUE: dict[tuple[str, str], str] = {
    ("08-classification-metrics.md", "fraction at 51"): "2/(P + R) ≥ 1 ≥ √(PR) for P, R in (0, 1]",
    ("08-classification-metrics.md", "sign at 8"): "(1 - t)/(1 + 4t) is below the chord too",
    ("08-classification-metrics.md", "sign at 27"): "(1 + t)/(1 + 4t) ≤ 1 ≤ 1 + 3t/5",
    ("08-classification-metrics.md", "fraction at 14"): "1/2 < 3/2 still",
    ("08-classification-metrics.md", "digit at 9"): "1/3 < 2/3 still",
    ("08-classification-metrics.md", "digit at 20"): "1/2 < 3/3 still",
    ("09-class-imbalance.md", "digit at 16"): "1000/1982 ≈ 0.5045 also rounds to the 0.505 shown",
    (
        "13-k-nearest-neighbours.md",
        "sign at 30",
    ): "(4^p - 3^p)^(1/p) also tends to 4",
    ("15-support-vector-machines.md", "exponent at 12"): "log₂(1 + e^(1-m)) ≥ log₂(1 + e^(-m))",
    ("15-support-vector-machines.md", "sign at 6"): "|2c₁c₂e^(-γd²)| ≤ c₁² + c₂²: either sign",
    ("15-support-vector-machines.md", "exponent at 21"): "|2c₁c₂e^(1-γd²)| can exceed c₁² + c₂² "
    "only when e^(1-γd²) > 1; the random points missed it (a known miss, not an equality)",
    ("17-gradient-descent.md", "exponent at 69"): "false only for |θ₀ − θ*| below "
    "ηt·a(1 − ηa)^(2t), which the random points missed (a known miss, not an equality)",
    (
        "13-k-nearest-neighbours.md",
        "sign at 23 of 'R_B\\left(2 - \\frac{K}{K-1}R_B\\right) \\le 2R_B'",
    ): "K/(K+1) < K/(K-1): a weaker true bound",
    (
        "13-k-nearest-neighbours.md",
        "fraction at 13 of 'R_B\\left(2 - \\frac{K}{K-1}R_B\\right) \\le 2R_B'",
    ): "(K-1)/K < K/(K-1): weaker, true",
    (
        "13-k-nearest-neighbours.md",
        "digit at 24 of 'R_B\\left(2 - \\frac{K}{K-1}R_B\\right) \\le 2R_B'",
    ): "K/(K-2) > K/(K-1): the left is smaller, true",
    (
        "13-k-nearest-neighbours.md",
        "digit at 41 of 'R_B\\left(2 - \\frac{K}{K-1}R_B\\right) \\le 2R_B'",
    ): "≤ 3R_B is weaker than ≤ 2R_B",
    (
        "13-k-nearest-neighbours.md",
        "digit at 32 of '2\\eta(1 - \\eta) = 2r(1 - r) \\le 2r'",
    ): "≤ 3r is weaker than ≤ 2r",
    ("22-probability-calibration.md", "sign at 14"): "-(1 + p)log(1 - q) ≥ -(1 - p)log(1 - q): "
    "the left side only grows",
    (
        "22-probability-calibration.md",
        "sign at 34",
    ): "+p log p ≤ 0 ≤ -p log p: a smaller right side",
    ("22-probability-calibration.md", "sign at 43"): "+(1 - p)log(1 - p) ≤ 0: a smaller right side",
    ("22-probability-calibration.md", "sign at 59"): "-(1 - p)log(1 + p) ≤ 0: a smaller right side",
    ("12-ab-testing.md", "digit at 4"): "0.036 > 0.03 and 0.039 ≤ 0.04 still",
    ("21-gradient-boosting.md", "digit at 78"): "a gain of 4.5 is above 1 as well as 0",
    ("07-transfer-learning.md", "digit at 4"): "20491/23508032 ≈ 0.08717% also rounds to 0.087%",
    ("07-transfer-learning.md", "digit at 13"): "20490/23508033 also rounds to 0.087%",
    ("09-batch-normalisation.md", "digit at 8"): "1/(1 + 11⁻⁵) ≈ 0.999994 also rounds to 0.99999",
    ("10-hyperparameter-search.md", "sign at 18"): "0.09/0.10001 ≈ 0.8999 also rounds to 0.90",
    ("10-hyperparameter-search.md", "digit at 26"): "0.09/0.09998 ≈ 0.9002 also rounds to 0.90",
    ("17-embeddings.md", "digit at 7"): "38597377/124439808 also rounds to 31%",
    ("17-embeddings.md", "digit at 17"): "38597376/124439809 also rounds to 31%",
    ("22-probability-calibration.md", "sign at 36"): "ln((1 + p)/(1 - q)) ≥ ln((1 - p)/(1 - q)): "
    "the left side only grows",
    ("17-gradient-descent.md", "sign at 52"): "|θ₀ + θ*|² bounds the gap unless θ₀ is near −θ*, "
    "which the random points sometimes miss (a known miss, not an equality)",
}
# Mutants the verifier should kill but does not yet: each is a known gap, left for a fix.
GAPS: dict[tuple[str, str], str] = {
    ("21-gradient-boosting.md", "fraction at 0"): "\\frac{dF}{d} has an undeclared d, so the "
    "formula reads as notation (a name for its right side), whose max and argmax claims still "
    "hold; notation should be limited to names",
}


@dataclass(frozen=True)
class Mutant:
    formula: DisplayFormula
    mutation: str
    latex: str
    block: tuple[tuple[str, object], ...]

    @property
    def name(self) -> tuple[str, str]:
        return (self.formula.loc.path.name, self.mutation)


def shipped_formulas() -> list[DisplayFormula]:
    deck, _ = load(SHIPPED, write_ids=False)
    found = []
    for note in deck.notes:
        for side in (note.card.front, note.card.back, note.card.notes):
            formulas, _ = display_formulas(side.text, side.loc)
            found += [f for f in formulas if f.block and not _unverified(f)]
    return found


def shipped_statements() -> list[DisplayFormula]:
    """The inline statements about numbers alone (checked with no block), as formulas."""
    deck, _ = load(SHIPPED, write_ids=False)
    return [
        DisplayFormula(inline.latex, inline.loc, ())
        for note in deck.notes
        for inline in note.inline
        if verify.closed_statement(inline) is not None
    ]


@dataclass(frozen=True)
class Claimed:
    """A claim of a paragraph under its verify block: mutants change its statement."""

    paragraph: tuple[Statement, ...]
    index: int  # of the statement that makes the claim
    block: tuple[tuple[str, object], ...]

    @property
    def formula(self) -> DisplayFormula:  # where it is and what it says, as for the others
        statement = self.paragraph[self.index]
        return DisplayFormula(statement.latex, statement.loc, None)


def shipped_paragraph_claims() -> list[Claimed]:
    """Every inline statement a paragraph's verify block checks."""
    deck, _ = load(SHIPPED, write_ids=False)
    found = []
    for formulas in verify._paragraphs(deck):
        block = formulas[0].block
        statements = _statements(formulas) if block else []
        if not statements:
            continue
        read = read_paragraph(statements, list(block or ()))
        found += [
            Claimed(tuple(statements), index, block or ())
            for index, status in enumerate(read.status)
            if status == "checked"
        ]
    return found


def _statements(formulas: list[InlineFormula]) -> list[Statement]:
    return [
        Statement(f.latex, f.loc, found)
        for f in formulas
        if (found := shape(f.latex)) is not None and verify.closed_statement(f) is None
    ]


def read_mutant(mutant: Mutant | ParagraphMutant) -> tuple[Spec | None, list[int]]:
    """The spec to check and which of its claims the mutated statement makes; no spec if the
    mutant cannot be read, or is left unverified (strict verification fails on both)."""
    if isinstance(mutant, Mutant):
        spec, problems = read_spec(mutant.latex, mutant.formula.loc, list(mutant.block))  # type: ignore[arg-type]
        if problems or spec is None or not spec.claims:
            return None, []
        return spec, list(range(len(spec.claims)))
    statements = list(mutant.claimed.paragraph)
    old = statements[mutant.claimed.index]
    found = shape(mutant.latex)
    if found is None:
        return Spec(old.loc, mutant.latex, {}, frozenset(), ()), []  # states nothing: survives
    statements[mutant.claimed.index] = Statement(mutant.latex, old.loc, found)
    read = read_paragraph(statements, list(mutant.claimed.block))  # type: ignore[arg-type]
    status = read.status[mutant.claimed.index]
    if read.problems or read.spec is None or status == "unverified":
        return None, []
    claims = read.spec.claims
    return read.spec, [
        i for i, c in enumerate(claims) if c.loc == old.loc and c.text == mutant.latex
    ]


def _unverified(formula: DisplayFormula) -> bool:
    return any(text.strip().startswith("unverified") for text, _ in formula.block or ())


def _each(pattern: str, latex: str) -> Iterator[re.Match[str]]:
    yield from re.finditer(pattern, latex)


def _group_end(latex: str, start: int) -> int:
    """Index just past the brace group opening at `start`."""
    depth = 0
    for index in range(start, len(latex)):
        depth += {"{": 1, "}": -1}.get(latex[index], 0)
        if depth == 0:
            return index + 1
    return len(latex)


def mutations(latex: str) -> Iterator[tuple[str, str]]:
    """(description, mutated LaTeX) for every place a typo could strike."""
    for m in _each(r"(?<!\\)[+-]", latex):
        flipped = "-" if m.group() == "+" else "+"
        yield f"sign at {m.start()}", latex[: m.start()] + flipped + latex[m.end() :]
    limits = r"(?<!\\int)(?<!\\sum)(?<!\\prod)(?<!\})"  # ^ after \sum_{..} is a limit
    for m in _each(limits + r"\^(\{|\\?[A-Za-z0-9])", latex):
        if re.search(r"\\(sum|prod|int)(_\{[^{}]*\}|_\w)?$", latex[: m.start()]):
            continue
        if m.group(1) == "{":
            end = _group_end(latex, m.start() + 1)
            inner = latex[m.start() + 2 : end - 1]
        else:
            end, inner = m.end(), m.group(1)
        yield f"exponent at {m.start()}", latex[: m.start()] + f"^{{{inner} + 1}}" + latex[end:]
    for m in _each(r"(?<!\\)!", latex):
        yield f"factorial at {m.start()}", latex[: m.start()] + latex[m.end() :]
    for m in _each(r"\\frac(?=\{)", latex):
        first_end = _group_end(latex, m.end())
        second_end = _group_end(latex, first_end)
        top, bottom = latex[m.end() : first_end], latex[first_end:second_end]
        yield f"fraction at {m.start()}", latex[: m.end()] + bottom + top + latex[second_end:]
    for m in _each(GREEK.pattern, latex):
        yield f"backslash at {m.start()}", latex[: m.start()] + latex[m.start() + 1 :]


def swapped_moments(block: tuple[tuple[str, object], ...]) -> tuple[tuple[str, object], ...] | None:
    """The block with the mean's and the variance's values exchanged, if it claims both."""
    lines = [text for text, _ in block]
    mean = next((i for i, t in enumerate(lines) if t.startswith("mean:")), None)
    variance = next((i for i, t in enumerate(lines) if t.startswith("variance:")), None)
    if mean is None or variance is None:
        return None
    swapped = list(block)
    swapped[mean] = ("mean:" + lines[variance].partition(":")[2], block[mean][1])
    swapped[variance] = ("variance:" + lines[mean].partition(":")[2], block[variance][1])
    return tuple(swapped)


def digits(latex: str) -> Iterator[tuple[str, str]]:
    """Each number with its last digit mistyped (one more; 9 becomes 8)."""
    for m in _each(r"\d+(\.\d+)?", latex):
        last = int(latex[m.end() - 1])
        typo = str(last + 1 if last < 9 else 8)
        yield f"digit at {m.end() - 1}", latex[: m.end() - 1] + typo + latex[m.end() :]


@dataclass(frozen=True)
class ParagraphMutant:
    claimed: Claimed
    mutation: str
    latex: str

    @property
    def name(self) -> tuple[str, str]:
        return (
            self.claimed.formula.loc.path.name,
            f"{self.mutation} of '{self.claimed.formula.latex}'",
        )


def paragraph_mutants(claimed: Claimed) -> Iterator[ParagraphMutant]:
    latex = claimed.formula.latex
    for description, mutated in [*mutations(latex), *digits(latex)]:
        if mutated != latex:
            yield ParagraphMutant(claimed, description, mutated)


def mutants(formula: DisplayFormula) -> Iterator[Mutant]:
    assert formula.block is not None
    inline = not formula.block  # a statement about numbers alone: a digit typo matters most
    for description, latex in [
        *mutations(formula.latex),
        *(digits(formula.latex) if inline else []),
    ]:
        if latex != formula.latex:
            yield Mutant(formula, description, latex, formula.block)
    swapped = swapped_moments(formula.block)
    if swapped is not None:
        yield Mutant(formula, "mean and variance swapped", formula.latex, swapped)


def test_at_least_97_percent_of_mutants_fail_verification() -> None:
    formulas, statements = shipped_formulas(), shipped_statements()
    claimed = shipped_paragraph_claims()
    assert len(formulas) >= 25 and len(statements) >= 20 and len(claimed) >= 19
    all_mutants: list[Mutant | ParagraphMutant] = [
        *(m for f in formulas + statements for m in mutants(f)),
        *(m for c in claimed for m in paragraph_mutants(c)),
    ]
    killed, unreadable, jobs = set(), set(), []
    for number, mutant in enumerate(all_mutants):
        spec, watched = read_mutant(mutant)
        if spec is None:
            killed.add(number)
            unreadable.add(number)
            continue
        for index in watched:
            key = hashlib.sha256(f"{number}#{index}#{mutant.latex}".encode()).hexdigest()
            jobs.append((number, verify.Job(spec, index, key, prove=False)))
    outcomes = verify.run([job for _, job in jobs], workers=2)
    killed |= {n for n, job in jobs if outcomes[job.key]["status"] == "failed"}
    survivors = [m for n, m in enumerate(all_mutants) if n not in killed]
    rate = len(killed) / len(all_mutants)
    explained = EQUAL | STILL_TRUE | GAPS
    report = "\n".join(f"{m.name}: {m.latex}" for m in survivors if m.name not in explained)
    by_counterexample = len(killed - unreadable) / len(all_mutants)
    print(
        f"{len(all_mutants)} mutants, {len(killed)} killed ({rate:.1%}), "
        f"{by_counterexample:.1%} by a failing claim, the rest unreadable (undeclared, no claim)"
    )
    assert rate >= 0.97, report
    assert not report, f"survivors not explained in EQUAL, STILL_TRUE or GAPS:\n{report}"
