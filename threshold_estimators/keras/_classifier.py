"""KerasProbabilisticClassifier: a Keras network as a scikit-learn classifier."""

from __future__ import annotations

import copy
import inspect
from numbers import Integral, Real

import numpy as np
from sklearn.base import BaseEstimator, ClassifierMixin, _fit_context
from sklearn.utils._param_validation import Interval
from sklearn.utils.multiclass import check_classification_targets
from sklearn.utils.validation import (
    _check_sample_weight,
    check_is_fitted,
    validate_data,
)

from ._lazy import SavedKerasModel, import_keras, is_keras_model
from ._network import (
    check_units,
    one_hot_loss,
    output_units,
    probabilities,
    seeded,
)

_PREFIX = "model__"
# Builder arguments filled from the data when the builder names them.
_FROM_DATA = ("n_features_in", "n_classes")


class KerasProbabilisticClassifier(ClassifierMixin, BaseEstimator):
    """A Keras network with a sigmoid or softmax output as a scikit-learn classifier.

    Needs the ``keras`` extra (``pip install "threshold-estimators[keras]"``);
    Keras is imported on first use, not when this module is.

    Parameters
    ----------
    model : callable or keras.Model
        Either a **builder**: a function returning a new ``keras.Model`` whose
        single output is one sigmoid unit (binary targets) or a softmax over the
        classes. It is called at every :meth:`fit`, so clones, CV folds and
        grid-search candidates each train their own network. It receives the
        ``model__<name>`` parameters as ``<name>=value``, and ``n_features_in``
        and ``n_classes`` when its signature names them. It may compile the
        model (optimizer, loss, metrics are its choice); an uncompiled model is
        compiled with Adam and the matching cross-entropy.

        Or an **already trained** ``keras.Model``, used as is: :meth:`fit` never
        trains it, it only reads the class labels from ``y`` (output unit ``i``
        stands for the ``i``-th sorted class). To tune its threshold without
        retraining, wrap the fitted classifier in
        :class:`sklearn.frozen.FrozenEstimator` or pass it with ``cv="prefit"``.

    epochs : int, default=10
        Passes over the training data.

    batch_size : int, default=32
        Samples per gradient step (and per prediction batch).

    verbose : int, default=0
        Keras' verbosity in training and prediction (0 silent, 1 progress
        bar, 2 one line per epoch).

    validation_split : float, default=0.0
        Fraction of the training rows Keras holds out to report ``val_loss``
        (useful with an ``EarlyStopping`` callback). Keras takes the *last*
        rows, unshuffled.

    callbacks : list of keras.callbacks.Callback, default=None
        Callbacks for training; each fit uses deep copies, so the instances
        given here keep no state from one fit to the next.

    random_state : int, RandomState instance or None, default=None
        Seeds Python, NumPy and the Keras backend
        (``keras.utils.set_random_seed``) before the network is built, so that
        two fits with the same integer give bit-identical networks. The global
        Python and NumPy generators are restored afterwards; the backend's seed
        stays set. Seeding is process-wide: fits in parallel threads are not
        reproducible (processes are).

    **model_params : dict
        ``model__<name>=value`` arguments for the builder; they are parameters
        of this estimator (``get_params``, ``set_params``, ``GridSearchCV``).

    Attributes
    ----------
    model_ : keras.Model
        The trained network (``model`` itself when it is an already trained
        model).

    classes_ : ndarray of shape (n_classes,)
        The class labels, sorted; output unit ``i`` of a softmax stands for
        ``classes_[i]``, a sigmoid unit for ``classes_[1]``.

    n_features_in_ : int
        Number of features seen during :term:`fit`.

    feature_names_in_ : ndarray of shape (`n_features_in_`,)
        Names of features seen during :term:`fit`, when ``X`` has string
        column names.

    history_ : dict of lists or None
        Keras' per-epoch training history (``loss``, metrics, ``val_loss``);
        None when the model was already trained.

    See Also
    --------
    threshold_estimators.ThresholdTunedClassifier : tunes the decision
        threshold of this classifier's ``predict_proba``.

    Notes
    -----
    Pickling and :func:`joblib.dump` store each network as the bytes of its
    ``.keras`` file, so a builder must be importable (a module-level function)
    and custom layers registered with
    ``keras.saving.register_keras_serializable`` for the pickle to load.

    Examples
    --------
    >>> import keras
    >>> from sklearn.datasets import make_classification
    >>> from threshold_estimators.keras import KerasProbabilisticClassifier
    >>> def build(n_features_in, units=8):
    ...     model = keras.Sequential([
    ...         keras.Input((n_features_in,)),
    ...         keras.layers.Dense(units, activation="relu"),
    ...         keras.layers.Dense(1, activation="sigmoid"),
    ...     ])
    ...     model.compile(optimizer="adam", loss="binary_crossentropy")
    ...     return model
    >>> X, y = make_classification(n_samples=200, random_state=0)
    >>> clf = KerasProbabilisticClassifier(
    ...     build, epochs=5, model__units=4, random_state=0
    ... ).fit(X, y)
    >>> clf.predict_proba(X[:3]).shape
    (3, 2)
    >>> clf.get_params()["model__units"]
    4
    """

    _parameter_constraints: dict = {
        "model": [callable],
        "epochs": [Interval(Integral, 1, None, closed="left")],
        "batch_size": [Interval(Integral, 1, None, closed="left")],
        "verbose": ["verbose"],
        "validation_split": [Interval(Real, 0, 1, closed="left")],
        "callbacks": [list, None],
        "random_state": ["random_state"],
    }

    def __init__(
        self,
        model,
        *,
        epochs=10,
        batch_size=32,
        verbose=0,
        validation_split=0.0,
        callbacks=None,
        random_state=None,
        **model_params,
    ):
        self.model = model
        self.epochs = epochs
        self.batch_size = batch_size
        self.verbose = verbose
        self.validation_split = validation_split
        self.callbacks = callbacks
        self.random_state = random_state
        for name, value in model_params.items():
            if not name.startswith(_PREFIX):
                # What Python says for any unknown keyword, plus the convention.
                raise TypeError(
                    f"{type(self).__name__}() got an unexpected keyword argument "
                    f"{name!r}; arguments for the model builder are passed as "
                    f"'{_PREFIX}<name>'."
                )
            setattr(self, name, value)

    def _model_params(self) -> dict:
        return {k: v for k, v in vars(self).items() if k.startswith(_PREFIX)}

    def get_params(self, deep=True):
        """Get parameters for this estimator, ``model__<name>`` ones included.

        Parameters
        ----------
        deep : bool, default=True
            Also return the parameters of contained estimators.

        Returns
        -------
        params : dict
            Parameter names mapped to their values.
        """
        params = super().get_params(deep=deep)
        params.update(self._model_params())
        return params

    def set_params(self, **params):
        """Set parameters; ``model__<name>`` ones go to the builder at fit.

        Parameters
        ----------
        **params : dict
            Estimator parameters.

        Returns
        -------
        self : KerasProbabilisticClassifier
            This estimator.
        """
        for name in [name for name in params if name.startswith(_PREFIX)]:
            setattr(self, name, params.pop(name))
        return super().set_params(**params)

    @_fit_context(prefer_skip_nested_validation=True)
    def fit(self, X, y, sample_weight=None):
        """Build a fresh network and train it (a trained model: read the labels).

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Training data.
        y : array-like of shape (n_samples,)
            Class labels of any type; they are encoded as ``0..k-1`` (one-hot
            when the compiled loss is a non-sparse categorical one).
        sample_weight : array-like of shape (n_samples,), default=None
            Weights of the samples in the training loss.

        Returns
        -------
        self : KerasProbabilisticClassifier
            The fitted classifier.
        """
        keras = import_keras()
        X, y = validate_data(self, X, y, dtype=keras.backend.floatx())
        check_classification_targets(y)
        classes, codes = np.unique(y, return_inverse=True)
        if classes.size < 2:
            raise ValueError(
                f"{type(self).__name__} needs samples of at least 2 classes; y has "
                f"1 class: {classes.tolist()}."
            )
        if isinstance(self.model, keras.Model):
            if self._model_params():
                raise ValueError(
                    f"{_PREFIX}<name> parameters are arguments for a builder, but "
                    "model is an already built keras.Model; got "
                    f"{sorted(self._model_params())}."
                )
            check_units(output_units(self.model, X.shape[1]), classes)
            self.model_, self.history_ = self.model, None
            self.classes_ = classes
            return self
        if sample_weight is not None:
            sample_weight = _check_sample_weight(sample_weight, X, dtype=X.dtype)
        with seeded(keras, self.random_state):
            model = self._build(keras, X.shape[1], classes)
            units = output_units(model, X.shape[1])
            check_units(units, classes)
            if not getattr(model, "compiled", True):
                if units is None:
                    raise ValueError(
                        "The builder returned an uncompiled model whose output "
                        "width cannot be read before it runs; compile it in the "
                        "builder (optimizer and loss)."
                    )
                model.compile(
                    optimizer="adam",
                    loss="binary_crossentropy"
                    if units == 1
                    else "sparse_categorical_crossentropy",
                )
            if units == 1:
                target = codes.astype(X.dtype).reshape(-1, 1)
            elif one_hot_loss(model.loss):
                target = np.eye(classes.size, dtype=X.dtype)[codes]
            else:
                target = codes
            history = model.fit(
                X,
                target,
                sample_weight=sample_weight,
                epochs=self.epochs,
                batch_size=self.batch_size,
                verbose=self.verbose,
                validation_split=self.validation_split,
                callbacks=copy.deepcopy(self.callbacks),
            )
        self.model_, self.history_ = model, dict(history.history)
        self.classes_ = classes
        return self

    def _build(self, keras, n_features, classes):
        """Call the builder with the ``model__`` parameters and the data's sizes."""
        kwargs = {k[len(_PREFIX) :]: v for k, v in self._model_params().items()}
        name = getattr(self.model, "__name__", type(self.model).__name__)
        try:
            parameters = inspect.signature(self.model).parameters
        except (TypeError, ValueError):  # builtins may have no signature
            parameters = None
        if parameters is not None:
            takes_any = any(p.kind is p.VAR_KEYWORD for p in parameters.values())
            unknown = sorted(set(kwargs) - set(parameters))
            if unknown and not takes_any:
                raise TypeError(
                    f"The builder {name}() takes no argument {unknown[0]!r}, set "
                    f"by {_PREFIX}{unknown[0]}; its parameters are "
                    f"{list(parameters)}."
                )
            for meta, value in zip(_FROM_DATA, (n_features, classes.size), strict=True):
                if meta in kwargs:
                    raise ValueError(
                        f"{_PREFIX}{meta} is not settable: {meta} is given to the "
                        "builder from the training data."
                    )
                if meta in parameters:
                    kwargs[meta] = value
        model = self.model(**kwargs)
        if not isinstance(model, keras.Model):
            raise TypeError(
                f"The builder {name}() must return a keras.Model; it returned "
                f"{type(model).__name__}."
            )
        return model

    def predict_proba(self, X):
        """Class probabilities: the softmax, or (1 - p, p) for a sigmoid unit.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Samples.

        Returns
        -------
        proba : ndarray of shape (n_samples, n_classes)
            Probabilities of the classes in the order of ``classes_``.
        """
        check_is_fitted(self)
        keras = import_keras()
        X = validate_data(self, X, reset=False, dtype=keras.backend.floatx())
        # JAX and TensorFlow compile one program per input shape: padding the
        # last batch to a full one lets every call reuse the same program (the
        # rows of a batch do not interact, so the padding changes no output).
        n_rows, padding = X.shape[0], -X.shape[0] % self.batch_size
        if padding:
            X = np.concatenate([X, np.zeros((padding, X.shape[1]), dtype=X.dtype)])
        output = self.model_.predict(
            X, batch_size=self.batch_size, verbose=self.verbose
        )
        return probabilities(np.asarray(output)[:n_rows], self.classes_)

    def predict(self, X):
        """The most probable class of each sample.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Samples.

        Returns
        -------
        y_pred : ndarray of shape (n_samples,)
            ``classes_[argmax(predict_proba(X))]``.
        """
        proba = self.predict_proba(X)
        return self.classes_[np.argmax(proba, axis=1)]

    def __getstate__(self):
        state = dict(super().__getstate__())  # may be self.__dict__ itself
        # A trained model passed as ``model`` is also ``model_``: saved once, and
        # one object again after loading.
        saved = {}
        for key, value in state.items():
            if is_keras_model(value):
                if id(value) not in saved:
                    saved[id(value)] = SavedKerasModel(value)
                state[key] = saved[id(value)]
        return state

    def __setstate__(self, state):
        state, loaded = dict(state), {}
        for key, value in state.items():
            if isinstance(value, SavedKerasModel):
                if id(value) not in loaded:
                    loaded[id(value)] = value.load()
                state[key] = loaded[id(value)]
        super().__setstate__(state)

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.non_deterministic = self.random_state is None
        return tags
