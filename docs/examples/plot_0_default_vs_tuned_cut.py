"""
The default cut and the tuned cut
=================================

A classifier's ``predict`` calls a row positive when its probability is at least
0.5, whatever the application needs. Here the application needs a precision of at
least 0.9 (of the rows called positive, at least 9 in 10 must be positive) and, within
that limit, as much recall as possible.

:class:`~threshold_estimators.ThresholdTunedClassifier` with
:class:`~threshold_estimators.objectives.PrecisionTarget` moves the cut there. This
script draws the figure of the documentation's front page: the same model, its
default cut and its tuned cut, on rows it never saw.
"""

# %%
# An imbalanced problem
# ---------------------
# 15 % of the rows are positive and the two classes overlap, so that precision 0.9 has
# a price in recall. Half of the rows are kept aside to check the decisions.
from sklearn.datasets import make_classification
from sklearn.model_selection import train_test_split

X, y = make_classification(
    n_samples=20_000,
    n_features=20,
    n_informative=6,
    weights=[0.85],
    class_sep=1.1,
    random_state=0,
)
X_train, X_test, y_train, y_test = train_test_split(
    X, y, test_size=0.5, stratify=y, random_state=0
)

# %%
# Tuning the cut
# --------------
# ``fit`` cross-validates the logistic regression (5 folds), searches every distinct
# out-of-fold probability for the cut with the most recall among those whose precision
# is at least 0.9, and refits the model on all the training rows.
from sklearn.linear_model import LogisticRegression

from threshold_estimators import ThresholdTunedClassifier
from threshold_estimators.objectives import PrecisionTarget

tuned = ThresholdTunedClassifier(LogisticRegression(), objective=PrecisionTarget(0.9))
tuned.fit(X_train, y_train)
print(f"tuned cut {tuned.threshold_:.3f}, out-of-fold recall {tuned.best_score_:.3f}")

# %%
# Both decisions on the held-out rows
# -----------------------------------
# ``tuned.estimator_`` is that refitted logistic regression: its own ``predict`` is
# the default cut, ``tuned.predict`` the tuned one. Same model, same probabilities;
# only the cut differs.
from sklearn.metrics import precision_score, recall_score

default_pred = tuned.estimator_.predict(X_test)
tuned_pred = tuned.predict(X_test)
cuts = {
    "default": (0.5, default_pred, "0.45"),
    "tuned": (tuned.threshold_, tuned_pred, "k"),
}
rates = {}
for name, (cut, y_pred, _) in cuts.items():
    rates[name] = precision_score(y_test, y_pred), recall_score(y_test, y_pred)
    print(
        f"{name} cut {cut:.3f}: precision {rates[name][0]:.3f}, "
        f"recall {rates[name][1]:.3f}"
    )

# The front page's caption says that the default cut misses the precision needed
# and that the tuned cut is above it: the build fails if this data stops showing it.
assert rates["default"][0] < 0.9 and tuned.threshold_ > 0.5

# %%
# The figure
# ----------
# :class:`~threshold_estimators.plotting.ThresholdCurveDisplay` draws precision and
# recall of the held-out rows against the threshold, the tuned cut and the target;
# the default cut and the two operating points are added on its axes.
import matplotlib.pyplot as plt

from threshold_estimators.plotting import ThresholdCurveDisplay

fig, ax = plt.subplots(figsize=(7.5, 4.8), layout="constrained")
display = ThresholdCurveDisplay.from_estimator(
    tuned,
    X_test,
    y_test,
    ax=ax,
    name="Logistic regression, 15 % positives: 10,000 held-out rows",
)
display.threshold_line_.set_label(f"tuned cut {tuned.threshold_:.3f}")
display.target_line_.set_label("precision needed: 0.9")
ax.axvline(0.5, color="0.45", label="default cut 0.5")
for name, (cut, _, color) in cuts.items():
    precision, recall = rates[name]
    ax.plot([cut, cut], [precision, recall], "o", color=color)
    # Below both curves, left of the cut: the empty part of the axes.
    ax.annotate(
        f"precision {precision:.2f}\nrecall {recall:.2f}",
        (cut, 0.3),
        xytext=(-8, 0),
        textcoords="offset points",
        ha="right",
        va="center",
    )
# The legend goes under the axes, where it hides no curve.
ax.get_legend().remove()
fig.legend(*ax.get_legend_handles_labels(), loc="outside lower center", ncols=3)
plt.show()
