"""Importing Keras on first use, and saving Keras models to bytes for pickling."""

from __future__ import annotations

import importlib.util
import json
import os
import sys
import tempfile

INSTALL_HINT = 'pip install "threshold-estimators[keras]"'

# The module each Keras backend needs, as named in KERAS_BACKEND / keras.json.
_BACKEND_MODULES = {
    "tensorflow": "tensorflow",
    "jax": "jax",
    "torch": "torch",
    "numpy": "numpy",
    "openvino": "openvino",
}


def _configured_backend() -> str:
    """The backend Keras will load: KERAS_BACKEND, else keras.json, else TensorFlow."""
    if os.environ.get("KERAS_BACKEND"):
        return os.environ["KERAS_BACKEND"]
    home = os.environ.get("KERAS_HOME") or os.path.join(
        os.path.expanduser("~"), ".keras"
    )
    try:
        with open(os.path.join(home, "keras.json"), encoding="utf-8") as file:
            return str(json.load(file).get("backend", "tensorflow"))
    except (OSError, ValueError, AttributeError):
        return "tensorflow"


def _installed(module: str) -> bool:
    try:
        return importlib.util.find_spec(module) is not None
    except (ImportError, ValueError):
        return False


def _choose_backend() -> None:
    """Fall back to JAX when the backend Keras would load is not installed.

    Keras defaults to TensorFlow and fails to import without it, while the
    [keras] extra installs JAX: without this, ``pip install`` of the extra
    followed by a fit would crash. An explicit KERAS_BACKEND is never changed,
    and nothing happens once Keras is imported (it reads the variable once).
    """
    if "keras" in sys.modules or os.environ.get("KERAS_BACKEND"):
        return
    module = _BACKEND_MODULES.get(_configured_backend())
    if module is not None and not _installed(module) and _installed("jax"):
        os.environ["KERAS_BACKEND"] = "jax"


def import_keras():
    """The ``keras`` module (Keras 3), or an ImportError that says what to install."""
    _choose_backend()
    try:
        import keras
    except ImportError as exc:
        missing = (getattr(exc, "name", None) or "").split(".")[0]
        if missing == "keras" or not missing:
            raise ImportError(
                "KerasProbabilisticClassifier needs Keras 3 and a backend; install "
                f"them with: {INSTALL_HINT}"
            ) from exc
        raise ImportError(
            f"Keras could not import its backend module {missing!r} (backend "
            f"{_configured_backend()!r}). Install it, or choose an installed "
            "backend before Keras is first imported, e.g. KERAS_BACKEND=jax "
            f"(JAX comes with {INSTALL_HINT})."
        ) from exc
    version = getattr(keras, "__version__", "0")
    if int(version.split(".")[0]) < 3:
        raise ImportError(
            f"KerasProbabilisticClassifier needs Keras 3; found Keras {version}. "
            f"Upgrade with: {INSTALL_HINT}"
        )
    return keras


def is_keras_model(value) -> bool:
    """Whether ``value`` is a Keras model, without importing Keras."""
    keras = sys.modules.get("keras")
    return keras is not None and isinstance(value, keras.Model)


class SavedKerasModel:
    """A Keras model as the bytes of its ``.keras`` file (architecture, weights,
    compile settings and optimizer state), as it travels inside a pickle."""

    def __init__(self, model):
        with tempfile.TemporaryDirectory() as folder:
            path = os.path.join(folder, "model.keras")
            model.save(path)
            with open(path, "rb") as file:
                self.data = file.read()

    def load(self):
        keras = import_keras()
        with tempfile.TemporaryDirectory() as folder:
            path = os.path.join(folder, "model.keras")
            with open(path, "wb") as file:
                file.write(self.data)
            # Unpickling already runs whatever code the pickle names, so the
            # safe mode (which refuses Lambda layers) would protect nothing.
            return keras.saving.load_model(path, safe_mode=False)
