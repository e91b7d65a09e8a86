"""Choose the decision threshold of a probabilistic classifier, exactly, by CV."""

from ._calibration import PiecewiseLogisticCalibrator
from ._classifier import ThresholdTunedClassifier
from ._pick import ThresholdPick, pick_threshold
from ._search import ThresholdCurve, confusion_curve
from ._support import LowSupportWarning

__all__ = [
    "LowSupportWarning",
    "PiecewiseLogisticCalibrator",
    "ThresholdCurve",
    "ThresholdPick",
    "ThresholdTunedClassifier",
    "confusion_curve",
    "pick_threshold",
]
__version__ = "0.1.0.dev0"
