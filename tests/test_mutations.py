"""Mutation test: break every verified formula of the shipped deck in the ways typos break
formulas; verification must notice at least 97% of the broken copies."""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from deckgen import verify
from deckgen.build import load
from deckgen.claims import read_spec
from deckgen.markup import DisplayFormula, display_formulas

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


def mutants(formula: DisplayFormula) -> Iterator[Mutant]:
    assert formula.block is not None
    for description, latex in mutations(formula.latex):
        if latex != formula.latex:
            yield Mutant(formula, description, latex, formula.block)
    swapped = swapped_moments(formula.block)
    if swapped is not None:
        yield Mutant(formula, "mean and variance swapped", formula.latex, swapped)


def test_at_least_97_percent_of_mutants_fail_verification() -> None:
    formulas = shipped_formulas()
    assert len(formulas) >= 25
    all_mutants = [m for f in formulas for m in mutants(f)]
    killed, jobs = set(), []
    for number, mutant in enumerate(all_mutants):
        spec, problems = read_spec(mutant.latex, mutant.formula.loc, list(mutant.block))  # type: ignore[arg-type]
        if problems or spec is None or not spec.claims:
            killed.add(number)
            continue
        for index in range(len(spec.claims)):
            key = hashlib.sha256(f"{number}#{index}#{mutant.latex}".encode()).hexdigest()
            jobs.append((number, verify.Job(spec, index, key, prove=False)))
    outcomes = verify.run([job for _, job in jobs], workers=2)
    killed |= {n for n, job in jobs if outcomes[job.key]["status"] == "failed"}
    survivors = [m for n, m in enumerate(all_mutants) if n not in killed]
    rate = len(killed) / len(all_mutants)
    report = "\n".join(f"{m.name}: {m.latex}" for m in survivors if m.name not in EQUAL)
    print(f"{len(all_mutants)} mutants, {len(killed)} killed ({rate:.1%})")
    assert rate >= 0.97, report
    assert not report, f"survivors not explained in EQUAL:\n{report}"
