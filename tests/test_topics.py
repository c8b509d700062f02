"""Every machine-learning and deep-learning topic of the interview notes the deck is built from is
covered by cards in the deck it belongs to (issues 13 and 14)."""

from __future__ import annotations

from pathlib import Path

from deckgen.build import load

SHIPPED = Path(__file__).parent.parent / "cards"
# topic of the notes -> cards that answer it (ids; each must exist, in a Machine Learning deck
# unless the topic lives in Statistics, as the regressions' derivations do)
MACHINE_LEARNING = {
    "Decision Trees": [
        "tree-greedy-split", "gini-impurity-formula", "gini-impurity-maximum",
        "node-entropy-formula", "information-gain", "regression-tree-split",
        "cost-complexity-pruning", "decision-tree-strengths", "axis-aligned-splits",
    ],
    "Random Forest": [
        "bagging-bootstrap-aggregating", "feature-subset-per-split", "out-of-bag-error",
        "number-of-trees", "max-features-bias-variance", "forest-tree-depth",
    ],
    "Accuracy Metrics": [
        "true-positive-rate", "false-positive-rate", "precision-metric", "roc-curve-and-auc",
        "choosing-an-operating-threshold", "confusion-matrix-cells", "accuracy-metric",
        "specificity-true-negative-rate", "f1-score-formula", "f-beta-score",
        "precision-recall-curve", "average-precision-sum", "precision-zero-division",
    ],
    "Class Imbalance": [
        "imbalance-root-problem", "random-oversampling", "random-undersampling",
        "smote-synthetic-examples", "class-weights-loss", "threshold-moving",
        "imbalance-metrics-to-report",
    ],
    "Cross Validation": [
        "k-fold-cross-validation", "stratified-k-fold", "group-k-fold",
        "time-series-cross-validation", "nested-cross-validation", "cv-leakage-preprocessing",
    ],
    "Feature Importance": [
        "impurity-importance-bias", "permutation-importance",
        "standardised-coefficients-importance", "shapley-value-definition",
        "tree-importance-not-depth",
    ],
    "MSE vs MAE": [
        "mse-estimates-conditional-mean", "mae-estimates-conditional-median", "mse-vs-mae-outliers",
        "mse-gradient", "mae-gradient", "huber-loss",
    ],
    "Lasso vs Ridge regularization vs Elastic Net": [
        "ridge-and-lasso-penalties", "elastic-net-penalty", "lasso-sparsity-geometry",
        "correlated-features-lasso-ridge", "standardise-before-penalising", "ridge-gaussian-prior",
        "lasso-laplace-prior",
    ],
    "Bias vs Variance Tradeoff": [
        "bias-variance-tradeoff", "expected-squared-error-decomposition", "diagnosing-high-bias",
        "diagnosing-high-variance", "remedies-for-high-variance",
    ],
    "Generative vs discriminative models": [
        "generative-classifier-models-joint", "discriminative-classifier-models-conditional",
        "generative-vs-discriminative-misdefinition", "generative-classifier-examples",
    ],
    "Parametric models vs non-parametric models": [
        "parametric-model-definition", "nonparametric-model-definition", "svm-parametric-or-not",
        "parametric-tradeoffs",
    ],
    "Linear Regression": [
        "mle-for-linear-regression-equal-noise", "ols-matrix-estimate",
        "ols-closed-form-vs-gd-cost", "polynomial-features-count", "ridge-vs-lasso-which-wins",
    ],
    "Logistic Regression": [
        "mle-for-logistic-regression", "logistic-gradient", "logistic-log-odds-linear",
        "log-loss-worked-values", "logistic-decision-boundary", "logistic-odds-ratio",
        "multinomial-logistic-regression",
    ],
    "Naive Bayes": [
        "naive-bayes-conditional-independence", "naive-bayes-decision-rule",
        "naive-bayes-additive-smoothing", "naive-bayes-accurate-despite-assumption",
    ],
    "K-nearest neighbors": [
        "knn-prediction-rule", "knn-k-bias-variance", "knn-feature-scaling",
        "knn-computational-cost", "ann-index-types",
    ],
    "Support Vector Machines": [
        "svm-maximum-margin", "hinge-loss", "svm-c-tradeoff", "svm-dual-kernel-trick",
        "rbf-kernel-similarity", "svm-vs-logistic-regression",
    ],
    "Recommendation Systems": [
        "explicit-vs-implicit-feedback", "user-vs-item-based-cf", "content-based-filtering",
        "matrix-factorisation-objective", "als-vs-sgd-matrix-factorisation", "cold-start-problem",
    ],
    "The Curse of Dimensionality": [
        "curse-of-dimensionality", "hypercube-boundary-shell", "unit-ball-volume",
        "distance-concentration",
    ],
    "Stochastic Gradient Descent vs Batch Gradient Descent": [
        "gradient-descent-update-rule", "batch-vs-stochastic-vs-minibatch", "sgd-vs-batch-speed",
        "sgd-learning-rate-decay",
    ],
}  # fmt: skip
NOTES_TOPICS = 19  # the Machine Learning headings of the notes

# topics interviews ask that the notes do not have (issue 13) -> (deck, cards that answer it)
BEYOND_THE_NOTES = {
    "Gradient boosting": (
        "Machine Learning::Gradient Boosting",
        [
            "gradient-boosting-round", "squared-loss-pseudo-residuals",
            "log-loss-gradient-hessian", "boosting-learning-rate-vs-trees",
            "boosting-early-stopping", "forest-vs-boosting-hyperparameters",
            "xgboost-optimal-leaf-weight", "xgboost-split-gain", "lightgbm-leaf-wise-growth",
        ],
    ),
    "Probability calibration": (
        "Machine Learning::Probability Calibration",
        [
            "calibration-definition", "reliability-diagram-construction", "brier-score",
            "expected-calibration-error", "platt-vs-isotonic", "temperature-scaling",
            "calibrator-held-out-data",
        ],
    ),
    "Data leakage": (
        "Machine Learning::Data Leakage",
        [
            "data-leakage-definition", "target-leakage", "point-in-time-join",
            "near-duplicates-scraped-data", "test-set-reuse", "leakage-warning-signs",
        ],
    ),
    "PCA": (
        "Machine Learning::PCA",
        [
            "pca-what-it-finds", "pca-eigen-or-svd", "pca-explained-variance-ratio",
            "pca-reconstruction-error", "pca-standardise-features", "pca-can-drop-the-signal",
        ],
    ),
    "k-means": (
        "Machine Learning::k-Means Clustering",
        [
            "kmeans-objective", "lloyd-algorithm", "lloyd-local-optimum", "kmeans-plus-plus",
            "kmeans-choosing-k", "kmeans-assumptions",
        ],
    ),
    "A/B-test basics": (
        "Statistics::A/B Testing",
        [
            "ab-sample-size-formula", "ab-halving-mde-sample-size",
            "ab-peeking-inflates-false-positives", "ab-benjamini-hochberg",
            "ab-sample-ratio-mismatch", "ab-cuped",
        ],
    ),
}  # fmt: skip


def test_every_machine_learning_topic_of_the_notes_has_cards() -> None:
    assert len(MACHINE_LEARNING) == NOTES_TOPICS
    assert all(MACHINE_LEARNING.values())
    deck, _ = load(SHIPPED, write_ids=False)
    decks = {note.card.id: note.card.deck for note in deck.notes}
    missing = [card for ids in MACHINE_LEARNING.values() for card in ids if card not in decks]
    assert not missing
    for topic, ids in MACHINE_LEARNING.items():
        homes = {decks[card].split("::")[0] for card in ids}
        assert homes <= {"Machine Learning", "Statistics"}, (topic, homes)


def test_every_topic_beyond_the_notes_has_cards_in_its_own_deck() -> None:
    deck, _ = load(SHIPPED, write_ids=False)
    decks = {note.card.id: note.card.deck for note in deck.notes}
    for topic, (home, ids) in {**BEYOND_THE_NOTES, **DEEP_LEARNING_BEYOND_THE_NOTES}.items():
        assert ids, topic
        assert {decks.get(card) for card in ids} == {home}, topic


# the Deep Learning headings of the notes -> the cards that answer what issue 14 asks of each
DEEP_LEARNING = {
    "Activation Functions": [
        "activation-functions", "sigmoid-derivative", "sigmoid-vanishing-gradients",
        "tanh-vs-sigmoid", "relu-advantages", "dead-relu", "leaky-relu", "gelu-activation",
        "silu-swish", "default-hidden-activations", "softmax-function", "stable-softmax",
        "log-softmax", "softmax-cross-entropy-gradient",
    ],
    "What if all the weights are initialized with the same value?": [
        "equal-init-symmetry", "zero-init-no-gradient", "xavier-init", "he-init",
        "init-by-activation",
    ],
    "What are the benefits of using a convolutional layer instead of a fully connected layer?": [
        "conv-local-connectivity", "conv-parameter-sharing", "conv-translation-equivariance",
        "conv-parameter-count", "conv-vs-dense-parameter-example",
    ],
    "How are RNNs trained?": ["rnn-recurrence", "bptt", "bptt-sum-over-steps", "truncated-bptt"],
    "Why are LSTMs preferred over vanilla RNNs?": [
        "lstm-why-gated", "lstm-gates", "lstm-cell-gradient", "lstm-constant-error-carousel",
        "gru-update-equation", "lstm-vs-gru-practice",
    ],
    "Valid vs same padding": [
        "valid-vs-same-padding", "conv-output-size", "conv-stride", "same-padding-amount",
        "conv-output-size-dilation",
    ],
    "Transfer learning": [
        "feature-extraction-vs-fine-tuning", "transfer-general-to-specific-features",
        "transfer-size-similarity", "finetune-lower-learning-rate", "discriminative-learning-rates",
    ],
    "What are exploding and vanishing gradients, and how do you deal with them?": [
        "vanishing-exploding-gradients", "sigmoid-chain-gradient-bound", "gradient-size-by-layer",
        "vanishing-exploding-remedies", "residual-gradient-identity", "gradient-clipping-norm",
    ],
    "What are the advantages of batch normalization?": [
        "batchnorm-training", "batchnorm-inference", "batchnorm-benefits",
        "batchnorm-small-batches", "layernorm-vs-batchnorm",
    ],
    "How do we perform searches of hyperparameters such as learning rate?": [
        "grid-vs-random-search", "bayesian-optimisation", "successive-halving", "hyperband",
        "lr-range-test", "log-uniform-sampling",
    ],
    "Optimizers and their benefits": [
        "momentum-effective-step", "nesterov-momentum", "adagrad-update", "rmsprop-update",
        "adam-update", "adam-bias-correction", "adamw-decoupled-weight-decay", "lr-schedules",
        "warmup-why",
    ],
    "How do you deal with a small dataset?": [
        "small-data-levers", "label-preserving-augmentation", "small-data-regularisers",
        "tabular-small-data-baselines", "small-data-cross-validation", "synthetic-data-sources",
    ],
    "What are GANs?": [
        "gan-generator-discriminator", "gan-minimax-objective", "gan-optimal-discriminator",
        "gan-mode-collapse", "gan-stabilisation-tricks",
    ],
    "What is dropout?": [
        "dropout-train-vs-inference", "inverted-dropout", "dropout-ensemble",
        "dropout-typical-rates",
    ],
    "What is one-shot learning?": [
        "one-few-zero-shot-definitions", "siamese-network", "prototypical-networks",
        "metric-learning-few-shot", "frozen-embedding-few-shot-baseline",
    ],
}  # fmt: skip
DEEP_LEARNING_NOTES_TOPICS = 15  # the Deep Learning headings of the notes

# what a 2026 interview asks that the notes predate (issue 14) -> (deck, cards that answer it)
DEEP_LEARNING_BEYOND_THE_NOTES = {
    "Attention and the transformer block": (
        "Deep Learning::Attention and Transformers",
        [
            "scaled-dot-product-attention", "attention-scaling-sqrt-dk", "multi-head-attention",
            "positional-encodings", "transformer-block", "pre-ln-vs-post-ln", "causal-mask",
            "transformer-architecture-families",
        ],
    ),
    "Embeddings": (
        "Deep Learning::Embeddings",
        ["embedding-definition", "embedding-lookup-one-hot", "static-vs-contextual-embeddings"],
    ),
    "Fine-tuning large pretrained models": (
        "Deep Learning::Fine-Tuning Large Models",
        ["full-vs-peft", "lora", "qlora", "full-finetuning-memory-adam"],
    ),
}  # fmt: skip


def test_every_deep_learning_topic_of_the_notes_has_cards_in_deep_learning() -> None:
    assert len(DEEP_LEARNING) == DEEP_LEARNING_NOTES_TOPICS
    deck, _ = load(SHIPPED, write_ids=False)
    decks = {note.card.id: note.card.deck for note in deck.notes}
    for topic, ids in DEEP_LEARNING.items():
        assert ids, topic
        homes = {decks.get(card, "missing").split("::")[0] for card in ids}
        assert homes == {"Deep Learning"}, (topic, [c for c in ids if c not in decks])
