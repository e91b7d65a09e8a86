"""Keras networks as scikit-learn classifiers, for threshold tuning.

Needs the ``keras`` extra: ``pip install "threshold-estimators[keras]"`` (Keras 3
and JAX). Importing this module does not import Keras; the first fit (or
unpickling) does, so ``KERAS_BACKEND`` can still be chosen after this import.
Keras loads the backend named by ``KERAS_BACKEND`` (``jax``, ``tensorflow`` or
``torch``); when that variable is unset and the configured backend (TensorFlow
by default) is not installed, JAX is chosen.
"""

from ._classifier import KerasProbabilisticClassifier

__all__ = ["KerasProbabilisticClassifier"]
