"""
Fraud detection with a cost matrix
==================================

One transaction in a hundred is fraud. A missed fraud costs the bank about 100
times what a false alarm costs (a call to the customer, a blocked card for an
hour). Neither the default cut at 0.5 nor the cut with the best F1 knows about
those costs; :class:`~threshold_estimators.objectives.CostMatrix` states them, and
the threshold is chosen to minimize the expected cost.
"""

# %%
# Transactions
# ------------
# 40 000 synthetic transactions, 1 % fraud (class 1); half of them train the
# models, the other half measures what each decision would have cost.
import numpy as np
from sklearn.datasets import make_classification
from sklearn.model_selection import train_test_split

X, y = make_classification(
    n_samples=40_000,
    n_features=20,
    n_informative=6,
    weights=[0.99],
    class_sep=0.8,
    flip_y=0.0,
    random_state=0,
)
X_train, X_test, y_train, y_test = train_test_split(
    X, y, test_size=0.5, stratify=y, random_state=0
)
print(f"frauds: {y_train.sum()} in training, {y_test.sum()} in the test half")

# %%
# Three decisions from the same model
# -----------------------------------
# ``costs[i][j]`` is the cost of predicting class ``j`` when the truth is ``i``
# (scikit-learn's confusion-matrix orientation): a false alarm costs 1, a missed
# fraud 100, a correct decision nothing.
from sklearn.linear_model import LogisticRegression

from threshold_estimators import ThresholdTunedClassifier
from threshold_estimators.objectives import F1, CostMatrix

costs = np.array([[0, 1], [100, 0]])
model = LogisticRegression(max_iter=1_000)

default = model.fit(X_train, y_train)
best_f1 = ThresholdTunedClassifier(model, objective=F1()).fit(X_train, y_train)
cheapest = ThresholdTunedClassifier(model, objective=CostMatrix(costs)).fit(
    X_train, y_train
)
decisions = {
    "default cut 0.5": (0.5, default.predict(X_test)),
    "best F1": (best_f1.threshold_, best_f1.predict(X_test)),
    "cost matrix": (cheapest.threshold_, cheapest.predict(X_test)),
}

# %%
# What each decision costs on the test half
# -----------------------------------------
from sklearn.metrics import confusion_matrix

print(
    f"{'decision':<17}{'threshold':>10}{'alarms':>8}{'false':>7}{'missed':>8}"
    f"{'cost':>8}{'per 1000':>10}"
)
table = {}
for name, (threshold, y_pred) in decisions.items():
    (tn, fp), (fn, tp) = confusion_matrix(y_test, y_pred)
    total = np.sum(costs * confusion_matrix(y_test, y_pred))
    table[name] = (fp * costs[0, 1], fn * costs[1, 0])
    print(
        f"{name:<17}{threshold:>10.4f}{tp + fp:>8}{fp:>7}{fn:>8}{total:>8}"
        f"{1000 * total / len(y_test):>10.1f}"
    )

# %%
# The cost-matrix cut raises many more alarms, and most of them are false; but
# each one is cheap, and the frauds it catches are not. The best-F1 cut treats a
# false alarm and a missed fraud alike, which is not what they cost. For a
# calibrated model the cost-optimal cut would be ``1 / (1 + 100)``, about 0.0099;
# the tuned threshold is found from the out-of-fold counts instead, so it does not
# rely on the probabilities being calibrated.
#
# The figure splits each decision's cost into false alarms and missed frauds
# (left), and draws the test cost of every threshold, from
# :func:`~threshold_estimators.confusion_curve` (the confusion counts at every
# distinct score), with the three cuts (right).
import matplotlib.pyplot as plt

from threshold_estimators import confusion_curve

fig, (left, right) = plt.subplots(1, 2, figsize=(11, 4.5))
names = list(table)
alarms = np.array([table[name][0] for name in names])
missed = np.array([table[name][1] for name in names])
left.bar(names, alarms, label="false alarms (cost 1 each)")
left.bar(names, missed, bottom=alarms, label="missed frauds (cost 100 each)")
left.set(ylabel="cost on the test half", title="Cost of each decision")
left.legend(fontsize="small")

scores = default.predict_proba(X_test)[:, 1]
curve = confusion_curve(y_test == 1, scores)
finite = np.isfinite(curve.thresholds)
test_cost = costs[0, 1] * curve.fp + costs[1, 0] * curve.fn
right.plot(curve.thresholds[finite], test_cost[finite], drawstyle="steps-post")
for (name, (threshold, _)), style in zip(
    decisions.items(), ("-.", "--", "-"), strict=True
):
    right.axvline(threshold, color="k", linestyle=style, label=name)
right.set(
    xscale="log",
    xlim=(1e-4, 1),
    xlabel="threshold on P(fraud)",
    ylabel="cost on the test half",
    title="Test cost of every threshold",
)
right.legend(fontsize="small")
fig.tight_layout()
plt.show()
