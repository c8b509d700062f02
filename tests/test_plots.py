"""Plots: declared in cards, checked with path:line errors, drawn by Matplotlib, cached, stable."""

from __future__ import annotations

import re
import shutil
import struct
from fractions import Fraction
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from conftest import FIXTURES, apkg_notes, deckgen, import_apkg

from deckgen import charts, plots, plotspec, symbolic, uptodate
from deckgen.build import load
from deckgen.errors import SourceErrors, SourceLoc
from deckgen.plotspec import BUILTIN, BUILTIN_LOC, Formula, Plot, declare

LOC = SourceLoc(Path("cards/plots.md"), 20)  # the block's first line

# kind, block, text the drawing must show (SVG text stays text: selectable in the PDF)
KINDS = [
    ("pmf", "kind: pmf\ndistribution: poisson\nlambda: [1, 4, 10]", "λ = 10"),
    (
        "pmf",
        "kind: pmf\ndistribution: binomial\nn: 20\np: [0.2, 0.8]\nlayout: panels",
        "n = 20, p = 0.8",
    ),
    ("pmf", "kind: pmf\ndistribution: geometric\np: 0.3", "p = 0.3"),
    ("pdf", "kind: pdf\ndistribution: normal\nmu: 0\nsigma: 1\nbands: true", "95.4%"),
    ("pdf", "kind: pdf\ndistribution: exponential\nlambda: [0.5, 2]", "λ = 0.5"),
    ("pdf", "kind: pdf\ndistribution: uniform\na: 0\nb: 0.5", "a = 0, b = 0.5"),
    ("cdf", "kind: cdf\ndistribution: normal\nmu: 1\nsigma: [1, 2]", "P(X ≤ x)"),
    ("cdf", "kind: cdf\ndistribution: poisson\nlambda: 3", "P(X ≤ k)"),
    ("long-tail", "kind: long-tail\ntail: pareto\nshape: 3", "Pareto, α = 3"),
    ("clt", "kind: clt\nsizes: [1, 30]\nsamples: 2000", "n = 30"),
    ("ci-coverage", "kind: ci-coverage\nseed: 7", "5 of 100 95% intervals miss μ"),
    ("roc", "kind: roc\nseparation: [0, 1]", "AUC = 0.76"),
    ("activations", "kind: activations\nderivatives: true", "leaky ReLU, slope 0.1"),
    ("bias-variance", "kind: bias-variance\nrepeats: 5", "best: degree"),
    ("impurity", "kind: impurity", "entropy (bits), max 1"),
    ("impurity", "kind: impurity\nscaled: true", "entropy ÷ 2, max 0.5"),
    ("losses", "kind: losses\nlosses: [hinge, exponential]", "hinge max(0, 1 − m)"),
    # the lasso's solution has a coefficient of exactly 0; ridge's does not
    ("penalty-regions", "kind: penalty-regions", "lasso (L1): (0.00, 1.00)"),
    ("penalty-regions", "kind: penalty-regions", "ridge (L2): (0.50, 0.87)"),
    ("tree-partition", "kind: tree-partition\ndepth: 2", "depth 2: 4 leaves"),
    ("knn", "kind: knn\nk: [1, 15]", "k = 1, training error 0%"),
    ("svm-margin", "kind: svm-margin\nseed: 1", "3 support vectors"),
    ("pr-roc", "kind: pr-roc\nseparation: 1", "ROC, AUC = 0.76"),
    ("distance-concentration", "kind: distance-concentration", "d = 1000: contrast 0.156"),
    ("gradient-descent", "kind: gradient-descent\nsteps: 5", "stochastic (batch of 1)"),
    ("reliability", "kind: reliability\npoints: 500", "T = 1, calibrated: ECE"),
    ("pca", "kind: pca\ncorrelation: 0.9", "PC2: "),
    ("kmeans", "kind: kmeans\ninit: k-means++", "iteration 10 (stable since"),
    ("activations", "kind: activations\nfunctions: [gelu, silu]", "GELU x·Φ(x)"),
    ("lr-schedules", "kind: lr-schedules", "warmup (5%) + cosine"),
    ("optimizers", "kind: optimizers\nsteps: 10", "Adam (0.9, 0.999): f = "),
    ("vanishing-gradients", "kind: vanishing-gradients\ndepth: 5", "ReLU max(0, x), He init"),
    ("batch-statistics", "kind: batch-statistics\nbatches: 100", "middle 90% of 100 batches"),
]


def plot_of(block: str, formula: Formula | None = None) -> Plot:
    plot, problems = declare(block, LOC, formula)
    assert not problems, problems
    assert plot is not None
    return plot


def svg_texts(svg: bytes) -> list[str]:
    return re.findall(r"<text[^>]*>([^<]*)</text>", svg.decode())


def png_size(png: bytes) -> tuple[int, int]:
    assert png.startswith(b"\x89PNG\r\n\x1a\n")
    width, height = struct.unpack(">II", png[16:24])
    return width, height


@pytest.mark.parametrize(("kind", "block", "shown"), KINDS, ids=[k[1][6:30] for k in KINDS])
def test_every_kind_draws_svg_with_text_and_two_pngs(
    tmp_path: Path, kind: str, block: str, shown: str
) -> None:
    plot = plot_of(block)
    assert plot.kind == kind
    figure = plots.render([plot], tmp_path)[plot]
    assert shown in " ".join(svg_texts(figure.svg))
    width, _ = png_size(figure.png)
    assert width == round(3.4 * charts.ANKI_DPI)  # one column wide, at twice screen density
    assert png_size(figure.png_night) == png_size(figure.png)
    assert figure.png_night != figure.png  # drawn in the night colours, not a copy


BAD = [
    ("kind: histogram", 0, "plot needs a kind, one of pmf, pdf"),
    ("distribution: poisson\nlambda: 2", 0, "plot needs a kind"),
    ("kind: pmf\nlambda: 2", 0, "a pmf plot needs a distribution"),
    ("kind: pmf\ndistribution: zipf", 1, "a pmf plot needs a distribution"),
    ("kind: pmf\ndistribution: normal\nmu: 0\nsigma: 1", 0, "draws a formula with a `pmf x:`"),
    ("kind: pmf\ndistribution: poisson", 0, "plot needs a value for lambda"),
    (
        "kind: pmf\ndistribution: poisson\nlambda: -1",
        2,
        "lambda = -1 is out of range: the formula needs lambda > 0",
    ),
    (
        "kind: pmf\ndistribution: binomial\nn: 10\np: [0.5, 1.5]",
        3,
        "p = 1.5 is out of range: the formula needs p ≤ 1",
    ),
    ("kind: pmf\ndistribution: binomial\nn: 2.5\np: 0.5", 2, "n = 2.5 must be a whole number"),
    (
        "kind: pdf\ndistribution: uniform\na: 2\nb: 1",
        3,
        "b = 1 is out of range: the formula needs b > 2",
    ),
    ("kind: pmf\ndistribution: poisson\nlambda: 1000000000", 2, "too large to plot"),
    ("kind: pmf\ndistribution: poisson\nlambda: yes", 2, "must be a number"),
    ("kind: pmf\ndistribution: binomial\nn: [5, 10]\np: [0.1, 0.2, 0.3]", 2, "lists 2 values"),
    (
        "kind: pmf\ndistribution: poisson\nlambda: 1\ncolour: red",
        3,
        "'colour' is not an option of a pmf plot",
    ),
    ("kind: roc\nseparation: -1", 1, "plot option 'separation' must be ≥ 0"),
    ("kind: ci-coverage\nlevel: 1.5", 1, "plot option 'level' must be ≤ 0.999"),
    ("kind: clt\nsizes: [1, 2, 3, 4, 5, 6, 7]", 1, "must list 1 to 6 values"),
    ("kind: activations\nfunctions: [relu, swish]", 1, "must be one of sigmoid, tanh"),
    ("kind: roc\nkind: pmf", 1, "plot block is not valid YAML: key 'kind' is given twice"),
    ("kind: roc\ncaption: a: b", 1, "put text that contains ': ' in quotes"),
    ("kind: roc\n\tseparation: 1", 1, "not valid YAML: found character '\\t'"),
    ("kind: roc\nseparation: [1, 2", 1, "not valid YAML: expected ',' or ']'"),
    ("- kind: roc", 0, "lines of `option: value`"),
    ("kind: long-tail\ntail: pareto\nshape: 1.5", 2, "a Pareto tail needs shape > 2"),
    ("kind: bias-variance\npoints: 10\ndegrees: [0, 12]", 2, "degree at most 8"),
    ("kind: knn\npoints: 10\nk: 15", 2, "with 10 points, plot k at most 10"),
    ("kind: penalty-regions\nestimate: 1", 1, "must be a point [x, y], not 1"),
    ("kind: losses\nlosses: [hinge, huber]", 1, "must be one of zero-one, hinge"),
    ("kind: gradient-descent\npoints: 20\nbatch: 50", 2, "'batch' at most 20"),
    ("kind: reliability\ntemperatures: [1, 0]", 1, "'temperatures' must be ≥ 0.1"),
    ("kind: pca\ncorrelation: 1", 1, "'correlation' must be ≤ 0.99"),
    ("kind: kmeans\nk: 7", 1, "'k' must be ≤ 6"),
    ("kind: kmeans\ninit: kmeans++", 1, "must be one of random, k-means++"),
    ("kind: lr-schedules\nschedules: [onecycle]", 1, "must be one of constant, step"),
    ("kind: lr-schedules\nwarmup: 0.8", 1, "'warmup' must be ≤ 0.5"),
    ("kind: optimizers\nmethods: [lion]", 1, "must be one of sgd, momentum"),
    ("kind: vanishing-gradients\ndepth: 1000", 1, "'depth' must be ≤ 100"),
    ("kind: batch-statistics\nsizes: [1, 4]", 1, "'sizes' must be ≥ 2"),
    ("kind: batch-statistics\nbatches: 100000", 1, "'batches' must be ≤ 10000"),
    (
        "kind: clt\nsizes: [1000]\nsamples: 100000",
        2,
        "'samples' with sizes up to 1000: at most 10000",
    ),
]


@pytest.mark.parametrize(("block", "line", "message"), BAD, ids=[b[2][:40] for b in BAD])
def test_bad_plot_blocks_are_reported_at_their_line(block: str, line: int, message: str) -> None:
    plot, problems = declare(block, LOC, None)
    assert plot is None
    assert [str(p.loc) for p in problems] == [f"cards/plots.md:{LOC.line + line}"]
    assert message in problems[0].message


POISSON = Formula(BUILTIN["poisson"][0], BUILTIN["poisson"][1])


def test_plot_under_a_verified_formula_draws_that_formula() -> None:
    # the formula's own where line decides what is in range, and its pmf is what gets drawn
    typo = Formula(
        r"P(X = k) = \frac{\lambda^k e^{-2\lambda}}{k!}, \qquad k = 0, 1, \dots",
        ("where \\lambda > 0", "pmf k: P(X = k)"),
    )
    plot = plot_of("kind: pmf\nlambda: 1", typo)
    assert plot.formula == (typo.latex, typo.lines)
    curve = symbolic.curve(plot.spec(), {"\\lambda": Fraction(1)})
    assert curve.at(0) == pytest.approx(0.1353352832)  # e^-2, not the e^-1 of a Poisson
    _, problems = declare("kind: pmf\nlambda: 0", LOC, typo)
    assert "the formula needs lambda > 0" in problems[0].message
    _, problems = declare("kind: pmf\nmu: 1", LOC, typo)
    assert "plot needs a value for lambda: the formula's parameters are lambda" in str(problems)
    _, problems = declare("kind: pmf\ndistribution: poisson\nlambda: 1", LOC, POISSON)
    assert "this plot draws the formula above it" in problems[0].message


def test_bands_show_probabilities_integrated_from_the_formula(tmp_path: Path) -> None:
    plot = plot_of("kind: pdf\ndistribution: normal\nmu: 3\nsigma: 2\nbands: true")
    texts = svg_texts(plots.render([plot], tmp_path)[plot].svg)
    assert {"68.3%", "95.4%", "99.7%"} <= set(texts)


@pytest.mark.parametrize("name", sorted(BUILTIN))
def test_built_in_distributions_pass_verification(name: str) -> None:
    spec = plot_of(f"kind: cdf\ndistribution: {name}\n" + _parameters(name)).spec()
    for index, claim in enumerate(spec.claims):
        # spot checks only: a proof attempt is cut short by a timer signal, which may land inside
        # SymPy and leave its caches broken; deckgen makes it only in worker processes
        outcome = symbolic.check(spec, index, seed=1, prove=False)
        assert outcome.status in ("proved", "numeric"), (claim.text, outcome.message)


def _parameters(name: str) -> str:
    return {
        "poisson": "lambda: 2",
        "binomial": "n: 5\np: 0.5",
        "geometric": "p: 0.5",
        "normal": "mu: 0\nsigma: 1",
        "exponential": "lambda: 1",
        "uniform": "a: 0\nb: 1",
    }[name]


def test_two_renders_give_identical_bytes(tmp_path: Path) -> None:
    blocks = [KINDS[0][1], KINDS[3][1], KINDS[9][1], KINDS[10][1], KINDS[13][1]]
    chosen = [plot_of(block) for block in blocks]
    first = plots.render(chosen, tmp_path / "one")
    second = plots.render(chosen, tmp_path / "two")
    assert first.drawn == second.drawn == len(chosen)
    assert first.by_key == second.by_key
    for figure in first.by_key.values():
        assert b"<dc:date>" not in figure.svg  # no build date in the file


@pytest.fixture
def plot_project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    shutil.copytree(FIXTURES / "plots", tmp_path / "cards")
    monkeypatch.chdir(tmp_path)
    return tmp_path


def test_second_build_redraws_nothing_and_an_edit_redraws_one(plot_project: Path) -> None:
    first = deckgen("build")
    assert first.exit_code == 0, first.output
    assert "3 plots (3 drawn)" in first.output
    cache = sorted((plot_project / "build/.cache/plots").iterdir())
    stamps = [path.stat().st_mtime_ns for path in cache]
    outputs = {p.name: p.read_bytes() for p in (plot_project / "build").glob("plot-test-deck.*")}

    second = deckgen("build")
    assert "3 plots (0 drawn)" in second.output
    assert [path.stat().st_mtime_ns for path in cache] == stamps
    assert outputs == {
        p.name: p.read_bytes() for p in (plot_project / "build").glob("plot-test-deck.*")
    }

    cards = plot_project / "cards/distributions.md"
    cards.write_text(cards.read_text().replace("lambda: [1, 4]", "lambda: [1, 5]"))
    assert "3 plots (1 drawn)" in deckgen("build").output


def test_bad_plot_fails_the_build_naming_the_line(plot_project: Path) -> None:
    assert deckgen("build").exit_code == 0
    before = (plot_project / "build/plot-test-deck.apkg").read_bytes()
    cards = plot_project / "cards/distributions.md"
    text = cards.read_text()
    line = text.splitlines().index("lambda: [1, 4]") + 1
    cards.write_text(text.replace("lambda: [1, 4]", "lambda: [1, -4]"))
    result = deckgen("build")
    assert result.exit_code == 1
    assert f"cards/distributions.md:{line}: plot parameter lambda = -4 is out of range" in (
        result.output
    )
    assert (plot_project / "build/plot-test-deck.apkg").read_bytes() == before


def test_anki_import_finds_every_plot_in_media(plot_project: Path, collection: Any) -> None:
    assert deckgen("build").exit_code == 0
    import_apkg(collection, plot_project / "build/plot-test-deck.apkg")
    deck, _ = load(Path("cards"), write_ids=False)
    media = Path(collection.media.dir())
    figures = plots.render(deck.plots, plot_project / "build/.cache")
    for plot in deck.plots:
        [note_id] = collection.find_notes(f'"Title:{plot_title(deck, plot)}"')
        back = collection.get_note(note_id)["Back"]
        for night in (False, True):
            name = figures[plot].media_name(night=night)  # named by its pixels
            assert f'src="{name}"' in back
            assert (media / name).read_bytes() == (
                figures[plot].png_night if night else figures[plot].png
            )


def plot_title(deck: Any, plot: Plot) -> str:
    return next(n.card.title for n in deck.notes if plot in n.plots)


def test_card_css_shows_the_drawing_for_the_mode(plot_project: Path, collection: Any) -> None:
    assert deckgen("build").exit_code == 0
    import_apkg(collection, plot_project / "build/plot-test-deck.apkg")
    css = collection.models.by_name("deckgen Basic")["css"]
    assert ".plot .plot-night { display: none; }" in css
    assert ".nightMode .plot .plot-day" in css


def test_pdf_contains_every_plot_as_selectable_text(plot_project: Path) -> None:
    import subprocess

    assert deckgen("build").exit_code == 0
    pdf = plot_project / "build/plot-test-deck.pdf"
    text = subprocess.run(["pdftotext", str(pdf), "-"], capture_output=True, text=True).stdout
    words = "".join(text.split())  # pdftotext drops some spaces between glyphs of SVG text
    assert "λ=4" in words  # the Poisson plot's legend
    assert "99.7%" in words  # the normal bands
    assert "intervalsmissμ" in words  # the coverage plot's title
    # Captions explain: the handout prints them, the cheatsheet saves the room.
    assert "Poissonprobabilitiesfortworates." not in words
    handout = plot_project / "build/plot-test-deck-handout.pdf"
    text = subprocess.run(["pdftotext", str(handout), "-"], capture_output=True, text=True).stdout
    assert "Poissonprobabilitiesfortworates." in "".join(text.split())


def test_formula_that_cannot_be_evaluated_is_an_error_not_a_traceback() -> None:
    with pytest.raises(SourceErrors, match=r"cards/plots\.md:20: cannot draw"):
        huge = Formula(
            r"P(X = k) = \frac{\lambda^{k}}{k!} e^{-\lambda} \lambda^{4000}, \quad k = 0, 1, \dots",
            ("where \\lambda > 0", "pmf k: P(X = k)"),
        )
        plots.render([plot_of("kind: pmf\nlambda: 1000\nrange: [0, 3]", huge)], BUILTIN_LOC.path)


def test_an_svm_margin_plot_of_overlapping_classes_is_an_error_at_its_block() -> None:
    with pytest.raises(SourceErrors, match=r"cards/plots\.md:20: .*not linearly separable"):
        plots.render([plot_of("kind: svm-margin\nseparation: 0.5")], BUILTIN_LOC.path)


def test_a_diverging_gradient_descent_plot_is_an_error_at_its_block(tmp_path: Path) -> None:
    with pytest.raises(SourceErrors, match=r"cards/plots\.md:20: .*diverges at rate 1: lower"):
        plots.render([plot_of("kind: gradient-descent\nrate: 1\nsteps: 200")], tmp_path)


def test_an_optimizer_plot_past_the_stable_rate_is_an_error_at_its_block(tmp_path: Path) -> None:
    # plain gradient descent on (x² + κy²)/2 diverges once rate > 2/κ
    plot = plot_of("kind: optimizers\nmethods: sgd\ncondition: 100\nrate: 0.03\nsteps: 200")
    with pytest.raises(SourceErrors, match=r"cards/plots\.md:20: .*SGD diverges .* 2/κ = 0\.02"):
        plots.render([plot], tmp_path)
    assert plots.render(
        [plot_of("kind: optimizers\nmethods: sgd\ncondition: 100\nrate: 0.019")], tmp_path
    )


def test_a_plot_that_takes_too_long_to_draw_fails_at_its_block(
    plot_project: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(plots, "DRAW_SECONDS", 0.001)  # as if every plot were huge
    result = deckgen("build")
    assert result.exit_code == 1
    assert re.search(
        r"cards/distributions\.md:\d+: cannot draw this \w+ plot: it takes longer", (result.output)
    )
    assert not (plot_project / "build/plot-test-deck.apkg").exists()


def test_a_deck_with_too_many_plots_fails(
    plot_project: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(plots, "MAX_PLOTS", 2)  # the fixture deck has 3
    result = deckgen("build")
    assert result.exit_code == 1
    assert re.search(r"cards/distributions\.md:\d+: more than 2 plots in the deck", result.output)


def test_new_drawing_code_that_draws_the_same_pictures_changes_no_note(
    plot_project: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Drawings are cached by the drawing code's version but named by their pixels in Anki."""
    assert deckgen("build", "--only", "apkg").exit_code == 0
    lock = (plot_project / "cards/deckgen.lock").read_text()
    notes = apkg_notes(plot_project / "build/plot-test-deck.apkg")
    monkeypatch.setattr(plotspec, "engine", lambda: "a newer deckgen")
    monkeypatch.setattr(uptodate, "unchanged", lambda *args: None)
    again = deckgen("build", "--only", "apkg")
    assert "3 plots (3 drawn)" in again.output  # drawn again: the code changed
    assert "update 0 and leave 3 unchanged" in again.output
    assert (plot_project / "cards/deckgen.lock").read_text() == lock
    assert apkg_notes(plot_project / "build/plot-test-deck.apkg") == notes


def _titles(block: str, tmp_path: Path) -> list[str]:
    plot = plot_of(block)
    return svg_texts(plots.render([plot], tmp_path)[plot].svg)


def test_reliability_diagram_scores_the_calibrated_temperature_best(tmp_path: Path) -> None:
    texts = _titles("kind: reliability\ntemperatures: [0.5, 1, 2]", tmp_path)
    errors = {
        match[2]: float(match[3])
        for text in texts
        if (match := re.match(r"T = (\S+), (\w+): ECE ([0-9.]+)", text))
    }
    assert set(errors) == {"overconfident", "calibrated", "underconfident"}
    assert errors["calibrated"] < 0.03 < min(errors["overconfident"], errors["underconfident"])


@pytest.mark.parametrize(("correlation", "share"), [(0, 50), (0.8, 90), (0.99, 99)])
def test_pca_plot_reports_the_first_components_share(
    tmp_path: Path, correlation: float, share: int
) -> None:
    # two unit-variance features of correlation r: the first component holds (1 + r) / 2
    texts = _titles(f"kind: pca\ncorrelation: {correlation}\npoints: 2000", tmp_path)
    shown = next(t for t in texts if t.startswith("PC1 explains"))
    assert abs(int(shown.split()[2].rstrip("%")) - share) <= 2


def test_kmeans_plot_shows_lloyds_inertia_never_rising(tmp_path: Path) -> None:
    texts = _titles("kind: kmeans\nk: 4\nshow: [0, 1, 2, 3]\nseed: 5", tmp_path)
    inertias = [int(t.split()[1]) for t in texts if t.startswith("inertia ")]
    assert len(inertias) == 4
    assert inertias == sorted(inertias, reverse=True)
    assert inertias[0] > inertias[-1]


def test_optimizer_plot_shows_momentum_ahead_of_sgd_on_an_ill_conditioned_loss(
    tmp_path: Path,
) -> None:
    texts = _titles("kind: optimizers\nmethods: [sgd, momentum]", tmp_path)
    loss = {t.split(":")[0]: float(t.split("f = ")[1]) for t in texts if "f = " in t}
    assert loss["momentum 0.9"] < loss["SGD"] / 3


def test_vanishing_gradients_plot_shows_sigmoid_vanish_where_relu_with_he_does_not(
    tmp_path: Path,
) -> None:
    plot = plot_of("kind: vanishing-gradients\nfunctions: [sigmoid, relu]\ndepth: 20")
    svg = plots.render([plot], tmp_path)[plot].svg.decode()
    assert "sigmoid σ(x), Xavier init" in svg and "ReLU max(0, x), He init" in svg
    sizes = {
        name: charts._backpropagated(np.random.default_rng(0), name, 20, 100, "matched")
        for name in ("sigmoid", "relu")
    }
    # sigmoid' <= 1/4: twenty layers shrink the first layer's gradient by many orders
    assert sizes["sigmoid"][0] / sizes["sigmoid"][-1] < 1e-6
    assert 0.1 < sizes["relu"][0] / sizes["relu"][-1] < 10


def test_batch_statistics_plot_shows_small_batches_stray_from_the_population(
    tmp_path: Path,
) -> None:
    plot = plot_of("kind: batch-statistics\nsizes: [2, 4, 16, 128]")
    svg = plots.render([plot], tmp_path)[plot].svg.decode()
    assert "batch mean" in svg and "batch SD (biased)" in svg
    means, sds = charts._batch_moments(np.random.default_rng(0), [2, 4, 16, 128], 2000)
    spread = np.percentile(means, 95, axis=1) - np.percentile(means, 5, axis=1)
    # a batch mean's SD is 1/sqrt(n): four times the batch, half the spread
    assert 1.8 < spread[1] / spread[2] < 2.2
    # two values' biased SD is |x1 - x2|/2: its median is about 0.48, not 1
    assert 0.4 < np.median(sds[0]) < 0.55
    assert 0.97 < np.median(sds[3]) < 1.0
