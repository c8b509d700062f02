"""Inline math in running text: which spans state something, and which only name or assume.

A span is a statement when a relation (=, \\ne, <, \\le, \\approx, \\sim, \\to, \\in) stands at its
top level, outside any brackets. A statement takes one of three shapes:

- a condition: names and numbers related (`n = 30`, `\\alpha > 1`, `np \\ge 10`, `n \\to \\infty`,
  `i \\ne j`, `k = 0, 1, \\dots, n`, `x \\in \\mathbb{R}`): it assumes or picks a case;
- a definition: a name (`Z`, `\\hat{\\beta}`, `t^{*}`, `L(\\theta)`) set equal to, or distributed
  as, an expression (`Z = (\\bar{X} - \\mu)/\\sigma`, `X \\sim N(0, 1)`): it names something new;
- a claim: anything else (`\\sigma(0) = \\frac{1}{2}`, `\\sigma'(z) = ...`), and every
  approximation (`\\alpha \\approx 1.16` reports a computed value, it assumes nothing).

Conditions and definitions are notation: nothing to check unless a verify block gives their
names a meaning. Claims are checked by the verify block under their paragraph, or are unverified.
"""

from __future__ import annotations

from dataclasses import dataclass

from deckgen.latex import (
    ACCENTS,
    DOTS,
    GREEK,
    RELATIONS,
    LatexError,
    Tok,
    depth_change,
    significant,
    tokenize,
)

# relations a sentence may state that the claim language does not check (yet)
UNCHECKED_RELATIONS = {"to": "to", "rightarrow": "to"}
_NAME_CMDS = GREEK | ACCENTS | {"ast", "star", "top"}
_TERM_CMDS = _NAME_CMDS | DOTS | {"infty", "lvert", "rvert", "lVert", "rVert", "vert", "|"}
_ARGUMENT_CMDS = GREEK | ACCENTS | {"mid"}


@dataclass(frozen=True)
class Shape:
    """What an inline span states: its relations and sides, and which shape it has."""

    kind: str  # "condition", "definition" or "claim"
    relations: tuple[str, ...]
    sides: tuple[tuple[Tok, ...], ...]

    @property
    def checkable(self) -> bool:
        """Whether the claim language reads every relation (no \\to)."""
        return not set(self.relations) & set(UNCHECKED_RELATIONS.values())


def shape(latex: str) -> Shape | None:
    """The shape of an inline span; None if it states no relation."""
    try:
        tokens = tokenize(latex)
    except LatexError:  # malformed: a claim, so that it is not silently taken for notation
        return Shape("claim", ("?",), ())
    parts = split_relations(tokens)
    if len(parts) == 1:
        return None
    relations = tuple(rel for rel, _ in parts[1:])
    sides = tuple(tuple(side) for _, side in parts)
    return Shape(_kind(relations, sides), relations, sides)


def split_relations(tokens: list[Tok]) -> list[tuple[str, list[Tok]]]:
    """Split `a < b \\sim c` at its top-level relations: [("", a), ("<", b), ("sim", c)]."""
    parts: list[tuple[str, list[Tok]]] = [("", [])]
    depth = 0
    for token in tokens:
        depth += depth_change(token)
        relation = _relation(token)
        if depth == 0 and relation:
            parts.append((relation, []))
        else:
            parts[-1][1].append(token)
    return parts


def _relation(token: Tok) -> str | None:
    if token.kind == "char" and token.value in "=<>":
        return RELATIONS[token.value]
    if token.kind == "cmd":
        return RELATIONS.get(token.value) or UNCHECKED_RELATIONS.get(token.value)
    return None


def _kind(relations: tuple[str, ...], sides: tuple[tuple[Tok, ...], ...]) -> str:
    if "~" in relations:
        return "claim"
    if "in" in relations or all(_simple(list(side)) for side in sides):
        return "condition"
    if relations[0] in ("=", "sim") and _name(list(sides[0]), list(sides[1])):
        return "definition"
    return "claim"


def _simple(tokens: list[Tok]) -> bool:
    """A number, a name, a product or ratio of them, a tuple of them: nothing beyond writing
    names and numbers side by side (`np`, `1/2`, `\\sigma^2`, `\\lvert\\rho\\rvert`)."""
    tokens = significant(tokens)
    if len(tokens) >= 2 and tokens[0].text == "(" and tokens[-1].text == ")":
        tokens = tokens[1:-1]  # a tuple, (0.4, 0.15, 0.45)
    return bool(tokens) and all(
        token.kind in ("num", "letter")
        or _is_cmd(token, _TERM_CMDS)
        or (token.kind == "char" and token.value in "{}_^|/.,*'-")
        for token in tokens
    )


def _name(left: list[Tok], right: list[Tok]) -> bool:
    """A name being defined: `Z`, `\\hat{\\sigma}^2`, `t^{*}`, `y_i`, or a function of names,
    `L(\\theta \\mid x)`, set to an expression that has names (`P(A) = 0` is a claim)."""
    left = significant(left)
    if not left or not (left[0].kind == "letter" or _is_cmd(left[0], _NAME_CMDS)):
        return False
    if left[0].text == "d" and len(left) > 1 and left[1].kind == "letter":
        return False  # dJ/dp, dx: a derivative or a differential
    head, arguments = left, None
    if left[-1].text == ")" and "(" in [t.text for t in left]:
        opening = [t.text for t in left].index("(")
        head, arguments = left[:opening], left[opening + 1 : -1]
    plain_head = _simple(head) and not any(t.text in ("/", "|", "-", "'", ",", ".") for t in head)
    if arguments is None:
        return plain_head
    named = all(
        t.kind == "letter" or _is_cmd(t, _ARGUMENT_CMDS) or t.text == "," for t in arguments
    )
    has_names = any(t.kind == "letter" or _is_cmd(t, GREEK) for t in right)
    return plain_head and bool(arguments) and named and has_names


def _is_cmd(token: Tok, names: frozenset[str] | set[str]) -> bool:
    return token.kind == "cmd" and token.value in names
