"""
A Keras network's class-5 precision raised without retraining
=============================================================

The Fashion-MNIST story on scikit-learn's digits: a small Keras network labels
10 classes, and whatever it calls "5" triggers an action, so a 5 must be a 5
(precision at least 0.98). Retraining is not on the table, but a fresh labelled
sample is.

:class:`~threshold_estimators.keras.KerasProbabilisticClassifier` makes the
network a scikit-learn classifier with ``predict_proba``;
:class:`~threshold_estimators.ThresholdTunedClassifier` with ``pos_label=5`` and a
:class:`~threshold_estimators.objectives.PrecisionTarget` then moves the cut on
class 5's softmax output only, the network wrapped in
:class:`sklearn.frozen.FrozenEstimator` so that it is never refitted.

Run it with ``KERAS_BACKEND=jax python plot_keras_digits_class5.py`` (the
``[keras]`` extra installs JAX; TensorFlow or PyTorch work too).
"""

# %%
# Data: train, tune, test
# -----------------------
# Half of the images train the network once; a quarter is the fresh labelled
# sample the threshold is tuned on, and the last quarter is the test set.
import os

os.environ.setdefault("KERAS_BACKEND", "jax")  # before Keras is first imported

import keras
from sklearn.datasets import load_digits
from sklearn.model_selection import train_test_split

X, y = load_digits(return_X_y=True)
X = X / 16.0  # pixels in [0, 1]
X_train, X_rest, y_train, y_rest = train_test_split(
    X, y, train_size=0.5, stratify=y, random_state=3
)
X_tune, X_test, y_tune, y_test = train_test_split(
    X_rest, y_rest, train_size=0.5, stratify=y_rest, random_state=3
)

# %%
# The network, trained once
# -------------------------
# A builder returns a fresh compiled model; ``n_features_in`` and ``n_classes``
# come from the data, ``units`` from the ``model__units`` parameter.
from threshold_estimators.keras import KerasProbabilisticClassifier


def build_mlp(n_features_in, n_classes, units=32):
    model = keras.Sequential(
        [
            keras.Input((n_features_in,)),
            keras.layers.Dense(units, activation="relu"),
            keras.layers.Dense(n_classes, activation="softmax"),
        ]
    )
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy")
    return model


network = KerasProbabilisticClassifier(
    build_mlp, epochs=20, model__units=32, random_state=0
).fit(X_train, y_train)
weights = [w.copy() for w in network.model_.get_weights()]

# %%
# Before: the network's own decision (the most likely class) on the test set.
from sklearn.metrics import classification_report

y_before = network.predict(X_test)
print(classification_report(y_test, y_before, digits=3))

# %%
# Tuning class 5 on the fresh sample
# ----------------------------------
# ``FrozenEstimator`` keeps the trained network as it is: the folds only score
# the tuning sample. (``cv="prefit"`` with the bare fitted ``network`` does the
# same in one pass.) The threshold is the one on ``predict_proba[:, 5]`` with the
# highest class-5 recall among those with precision >= 0.98 on that sample.
import numpy as np
from sklearn.frozen import FrozenEstimator

from threshold_estimators import ThresholdTunedClassifier
from threshold_estimators.objectives import PrecisionTarget

tuned = ThresholdTunedClassifier(
    FrozenEstimator(network),
    objective=PrecisionTarget(0.98),
    pos_label=5,
    store_cv_results=True,
).fit(X_tune, y_tune)
unchanged = all(
    np.array_equal(a, b)
    for a, b in zip(weights, network.model_.get_weights(), strict=True)
)
print(f"class-5 threshold {tuned.threshold_:.3f}, network unchanged: {unchanged}")

# %%
# After: the same network, the new decision rule. An image is called 5 when its
# class-5 probability clears the threshold, otherwise it goes to its most likely
# other class.
y_after = tuned.predict(X_test)
print(classification_report(y_test, y_after, digits=3))

# %%
# Where the cut sits
# ------------------
# Class 5's precision and recall on the tuning sample at every candidate
# threshold (each distinct class-5 probability): the tuned cut is the lowest one
# whose precision stays above the target, which keeps the most recall.
import matplotlib.pyplot as plt

results = tuned.cv_results_
fig, ax = plt.subplots(figsize=(7, 4))
ax.step(results["thresholds"], results["precision"], where="post", label="precision")
ax.step(results["thresholds"], results["recall"], where="post", label="recall")
ax.axhline(0.98, color="k", linestyle=":", label="precision target 0.98")
ax.axvline(tuned.threshold_, color="C3", label=f"tuned cut {tuned.threshold_:.2f}")
ax.set(
    xscale="logit",
    xlim=(1e-3, 1 - 1e-3),
    ylim=(0.5, 1.02),
    xlabel="threshold on predict_proba[:, 5]",
    ylabel="class 5, tuning sample",
)
ax.legend(loc="lower left")
fig.tight_layout()
plt.show()

# %%
# The tuned classifier pickles with its network (saved as a ``.keras`` file
# inside the pickle), so ``joblib.dump`` deploys it as one file.
import io

import joblib

buffer = io.BytesIO()
joblib.dump(tuned, buffer)
buffer.seek(0)
restored = joblib.load(buffer)
print(
    "same decisions after a round trip:",
    np.array_equal(restored.predict(X_test), y_after),
)
