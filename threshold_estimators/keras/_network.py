"""What the adapter needs to know about a network: its output, its loss, its seed."""

from __future__ import annotations

import random
from contextlib import contextmanager
from numbers import Integral

import numpy as np
from sklearn.utils import check_random_state


@contextmanager
def seeded(keras, random_state):
    """Seed Keras for the block; give Python and NumPy their global state back."""
    if random_state is None:
        yield
        return
    if isinstance(random_state, Integral):
        seed = int(random_state)
    else:
        seed = int(check_random_state(random_state).randint(np.iinfo(np.int32).max))
    # set_random_seed seeds the legacy global generators: keep the user's.
    python_state, numpy_state = random.getstate(), np.random.get_state()  # noqa: NPY002
    keras.utils.set_random_seed(seed)
    try:
        yield
    finally:
        random.setstate(python_state)
        np.random.set_state(numpy_state)  # noqa: NPY002


def output_units(model, n_features):
    """Width of the model's single output, or None when it cannot be told
    without running the model (then :func:`probabilities` checks it)."""
    outputs = getattr(model, "outputs", None)
    if outputs is not None and len(outputs) > 1:
        raise ValueError(
            f"The model has {len(outputs)} outputs; a classifier needs a single "
            "one (a sigmoid unit or a softmax over the classes)."
        )
    try:
        shape = (
            outputs[0].shape
            if outputs
            else model.compute_output_shape((None, n_features))
        )
    except Exception:  # subclassed models may not say
        return None
    return None if shape[-1] is None else int(shape[-1])


def check_units(units, classes):
    if units is None or units == classes.size or (units == 1 and classes.size == 2):
        return
    raise ValueError(
        f"The model has {units} output units but y has {classes.size} classes "
        f"{classes.tolist()}; use one sigmoid unit for 2 classes or a softmax "
        f"with {classes.size} units."
    )


def one_hot_loss(loss) -> bool:
    """Whether the compiled loss wants one-hot targets (categorical, not sparse)."""
    name = loss if isinstance(loss, str) else None
    name = name or getattr(loss, "name", None) or getattr(loss, "__name__", "")
    name = str(name or type(loss).__name__).lower()
    return "categorical" in name and "sparse" not in name


def probabilities(output, classes):
    """The network's output as checked (n_samples, n_classes) probabilities."""
    output = np.asarray(output, dtype=np.float64)
    if output.ndim == 1:
        output = output[:, None]
    n_classes = classes.size
    if output.ndim != 2 or output.shape[1] not in (
        n_classes,
        1 if n_classes == 2 else n_classes,
    ):
        raise ValueError(
            f"The model's output has shape {output.shape} for {n_classes} classes; "
            "a classifier needs one sigmoid unit (2 classes) or one softmax unit "
            "per class."
        )
    if not np.all(np.isfinite(output)):
        raise ValueError(
            f"The model returned {np.count_nonzero(~np.isfinite(output))} "
            "non-finite outputs (NaN or inf): training diverged, or the model is "
            "broken; a lower learning rate or scaled features often help."
        )
    if not np.all((output >= 0) & (output <= 1)):
        raise ValueError(
            "The model's outputs must be probabilities in [0, 1] (a sigmoid or "
            f"softmax last layer), got values in [{output.min():g}, "
            f"{output.max():g}]; a model that outputs logits needs its "
            "activation added."
        )
    if output.shape[1] == 1:
        return np.hstack([1.0 - output, output])
    sums = output.sum(axis=1)
    if not np.allclose(sums, 1.0, atol=1e-3):
        raise ValueError(
            "The model's output units must sum to 1 on every row (a softmax); got "
            f"row sums in [{sums.min():g}, {sums.max():g}]."
        )
    return output
