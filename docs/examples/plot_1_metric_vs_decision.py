"""
A metric does not move the decision
===================================

A spam filter must be trusted: of the messages it sends to the spam folder, at
least 95 % must really be spam (precision >= 0.95), and within that limit it should
catch as much spam as it can (recall).

A tempting way to get there is to *measure* precision while training: choose the
model by ``GridSearchCV(scoring="precision")``, or by a "precision at threshold
0.8" metric (as Keras' ``Precision(thresholds=0.8)`` reports it). Neither changes
what the model does: its ``predict`` still calls a message spam when its probability
is at least 0.5. The metric chooses *which model*, never *where to cut*.

:class:`~threshold_estimators.ThresholdTunedClassifier` with
:class:`~threshold_estimators.objectives.PrecisionTarget` moves the cut itself.
"""

# %%
# A spam-like data set
# --------------------
# 30 % of the messages are spam (class 1); the two classes overlap, so that a
# precision of 0.95 cannot be had for free. Half of the data is kept aside to
# check the decisions on messages no model has seen.
import numpy as np
from sklearn.datasets import make_classification
from sklearn.model_selection import train_test_split

X, y = make_classification(
    n_samples=6_000,
    n_features=20,
    n_informative=6,
    weights=[0.7],
    class_sep=1.0,
    random_state=0,
)
X_train, X_test, y_train, y_test = train_test_split(
    X, y, test_size=0.5, stratify=y, random_state=0
)

# %%
# Choosing the model by a precision metric
# ----------------------------------------
# Two grid searches over the regularization ``C`` of a logistic regression: one
# scored by scikit-learn's ``precision`` (precision of ``predict``, i.e. at 0.5),
# one by the precision of the calls ``predict_proba >= 0.8``.
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import precision_score, recall_score
from sklearn.model_selection import GridSearchCV


def precision_at_08(estimator, X, y):
    """Precision of the calls ``P(spam) >= 0.8``: a metric with its own threshold."""
    return precision_score(y, estimator.predict_proba(X)[:, 1] >= 0.8)


grid = {"C": np.logspace(-2, 2, 5)}
by_precision = GridSearchCV(LogisticRegression(), grid, scoring="precision")
by_precision_at_08 = GridSearchCV(LogisticRegression(), grid, scoring=precision_at_08)
by_precision.fit(X_train, y_train)
by_precision_at_08.fit(X_train, y_train)

for search in (by_precision, by_precision_at_08):
    model = search.best_estimator_
    cuts_at_half = model.predict(X_test) == (model.predict_proba(X_test)[:, 1] >= 0.5)
    print(
        f"best C = {search.best_params_['C']:g}, cross-validated score "
        f"{search.best_score_:.3f}; predict is P(spam) >= 0.5 on every test "
        f"message: {cuts_at_half.all()}"
    )

# %%
# Both searches report a precision, and the second even reports it at 0.8, yet the
# model they return still decides at 0.5: that precision is not what the filter
# delivers.
#
# Tuning the decision threshold
# -----------------------------
# ``PrecisionTarget(0.95)`` searches every cut of the out-of-fold probabilities
# (5-fold cross-validation on the training half) for the highest recall whose
# precision is at least 0.95, then refits the model on the whole training half.
# The inner model is the one the first grid search chose.
from threshold_estimators import ThresholdTunedClassifier
from threshold_estimators.objectives import PrecisionTarget

tuned = ThresholdTunedClassifier(
    LogisticRegression(C=by_precision.best_params_["C"]),
    objective=PrecisionTarget(0.95),
).fit(X_train, y_train)
print(
    f"tuned threshold {tuned.threshold_:.3f}; out-of-fold recall at precision "
    f">= 0.95: {tuned.best_score_:.3f}"
)

# %%
# On the held-out half:
rows = {
    "GridSearchCV(scoring='precision'), cut 0.5": by_precision.predict(X_test),
    "GridSearchCV(precision at 0.8), cut 0.5": by_precision_at_08.predict(X_test),
    f"ThresholdTunedClassifier, cut {tuned.threshold_:.3f}": tuned.predict(X_test),
}
print(f"{'decision':<45}{'precision':>10}{'recall':>8}")
for name, y_pred in rows.items():
    precision = precision_score(y_test, y_pred)
    recall = recall_score(y_test, y_pred)
    print(f"{name:<45}{precision:>10.3f}{recall:>8.3f}")

# %%
# Only the tuned decision brings the filter's precision to the target: the cut
# moved, at the price of some recall. The precision measured on new data is an
# estimate around the target, not a guarantee; the confidence option of
# ``PrecisionTarget`` (see the user guide) asks for a margin.
#
# Where the two cuts lie
# ----------------------
# :class:`~threshold_estimators.plotting.ThresholdCurveDisplay` draws the
# held-out precision and recall of the tuned model's probabilities against the
# threshold, with the target and the tuned cut; the dotted line is the cut that
# ``predict`` uses without tuning.
import matplotlib.pyplot as plt

from threshold_estimators.plotting import ThresholdCurveDisplay

fig, ax = plt.subplots(figsize=(7, 4.5))
display = ThresholdCurveDisplay.from_estimator(
    tuned, X_test, y_test, name="Held-out spam filter", ax=ax
)
ax.axvline(0.5, color="0.4", linestyle=":", label="default cut 0.5")
ax.legend(loc="lower left", fontsize="small")
plt.show()
