"""
A network whose best cut is 0.25, recalibrated to read 50 %
===========================================================

A small network with a sigmoid output scores a rare event (10 % of the cases). Its
probabilities are roughly calibrated, and that is exactly why 0.5 is the wrong
cut for F1: for a calibrated model, the best-F1 cut sits at half the best F1
reachable, so around 0.25 here. After tuning, the model says "positive" for a
case at 30 % — and a dashboard showing "30 %" next to a positive decision
confuses everyone.

``recalibrate=True`` fits a
:class:`~threshold_estimators.PiecewiseLogisticCalibrator` on the out-of-fold
scores: ``predict_proba`` then returns the *operating* probability ``q``, which is
exactly 50 % at the tuned cut, so that the probability and the decision always
agree; the calibrated *posterior* stays available through
``predict_posterior_proba``.
"""

# %%
# Data and network
# ----------------
# Two of the four features carry the signal, one of them through an interaction
# that a linear model would miss.
import numpy as np
from sklearn.model_selection import train_test_split
from sklearn.neural_network import MLPClassifier

rng = np.random.default_rng(0)
n_samples = 4_000
y = (rng.random(n_samples) < 0.1).astype(int)
X = rng.normal(size=(n_samples, 4))
X[:, 0] += 1.5 * y
X[:, 1] += 0.75 * y * np.sign(X[:, 2])
X_train, X_test, y_train, y_test = train_test_split(
    X, y, test_size=0.5, stratify=y, random_state=0
)

# Binary MLPClassifier: one logistic (sigmoid) output unit.
network = MLPClassifier(
    hidden_layer_sizes=(8,),
    alpha=0.1,
    learning_rate_init=0.01,
    batch_size=100,
    max_iter=200,
    random_state=0,
)

# %%
# Tuning for F1, with recalibration
# ---------------------------------
from threshold_estimators import ThresholdTunedClassifier
from threshold_estimators.objectives import F1

tuned = ThresholdTunedClassifier(
    network, objective=F1(), recalibrate=True, random_state=0
).fit(X_train, y_train)
calibrator = tuned.calibrator_
print(f"best-F1 cut on the network's probability: {tuned.threshold_:.3f}")
print(f"out-of-fold F1 there: {tuned.best_score_:.3f}")
print(
    f"calibrator: intercept {calibrator.intercept_:.3f}, slopes "
    f"{calibrator.slope_below_:.3f} below / {calibrator.slope_above_:.3f} above "
    f"({calibrator.n_slopes_} distinct)"
)

# %%
# The decision and the probability now agree on every test case: the tuned
# class is predicted exactly where its operating probability is at least 0.5.
raw = tuned.estimator_.predict_proba(X_test)[:, 1]  # the network's own output
operating = tuned.predict_proba(X_test)[:, 1]
posterior = tuned.predict_posterior_proba(X_test)[:, 1]
y_pred = tuned.predict(X_test)
print("predict == (operating >= 0.5):", np.array_equal(y_pred, operating >= 0.5))
print(
    "predict == (raw >= threshold_):", np.array_equal(y_pred, raw >= tuned.threshold_)
)
print(f"positive calls with raw probability < 0.5: {np.sum(y_pred & (raw < 0.5))}")

# %%
# The map from the network's probability to the operating one
# -----------------------------------------------------------
# ``calibrator_.predict_proba`` applies the piecewise logistic to raw scores: the
# tuned cut goes to 0.5, and the two sides may get different slopes in the logit
# domain. The posterior is the same curve shifted by the intercept: calibrated
# at the training balance, and below 0.5 at the cut.
import matplotlib.pyplot as plt

grid = np.linspace(0.001, 0.999, 500)
fig, ax = plt.subplots(figsize=(6, 5))
ax.plot(grid, calibrator.predict_proba(grid)[:, 1], label="operating q (predict_proba)")
ax.plot(
    grid,
    calibrator.predict_posterior_proba(grid)[:, 1],
    label="posterior (predict_posterior_proba)",
)
ax.plot([0, 1], [0, 1], color="0.6", linestyle=":", label="identity")
ax.axvline(tuned.threshold_, color="k", linestyle="--", label="tuned cut")
ax.axhline(0.5, color="k", linestyle=":", linewidth=0.8)
ax.set(
    xlabel="network's probability p",
    ylabel="recalibrated probability",
    title="Piecewise-logistic recalibration",
)
ax.legend(loc="lower right", fontsize="small")
plt.show()

# %%
# Reliability on the test set
# ---------------------------
# scikit-learn's :class:`~sklearn.calibration.CalibrationDisplay` compares the
# network's raw probability, the posterior, and the operating probability with
# the observed frequency of positives. The raw and posterior curves should lie
# near the diagonal; the operating probability deliberately does not: it is a
# probability under the class balance at which the tuned cut is the Bayes
# decision, which is what makes 0.5 its cut.
from sklearn.calibration import CalibrationDisplay

fig, ax = plt.subplots(figsize=(6, 5))
for name, proba in [
    ("network (raw)", raw),
    ("posterior", posterior),
    ("operating q", operating),
]:
    CalibrationDisplay.from_predictions(
        y_test, proba, n_bins=8, strategy="quantile", name=name, ax=ax
    )
ax.set_title("Reliability diagram, test set")
plt.show()
