"""scikit-learn's estimator checks over every public estimator."""

from sklearn.linear_model import LogisticRegression
from sklearn.svm import LinearSVC
from sklearn.tree import DecisionTreeClassifier
from sklearn.utils.estimator_checks import parametrize_with_checks

from threshold_estimators import PiecewiseLogisticCalibrator, ThresholdTunedClassifier
from threshold_estimators.objectives import CostMatrix, PrecisionTarget

# With recalibrate=False, predict_proba and decision_function are the inner
# estimator's, while predict cuts at the tuned threshold: the check that
# argmax(predict_proba) == predict cannot hold by design.
UNCUT_SCORES = {
    "check_classifiers_train": "predict cuts at threshold_, predict_proba and "
    "decision_function are the inner estimator's (recalibrate=False)",
}

ESTIMATORS = [
    ThresholdTunedClassifier(LogisticRegression()),
    ThresholdTunedClassifier(
        DecisionTreeClassifier(max_depth=4, random_state=0),
        objective="balanced_accuracy",
    ),
    ThresholdTunedClassifier(LinearSVC(), objective=CostMatrix([[0, 1], [2, 0]])),
    ThresholdTunedClassifier(
        LogisticRegression(), objective=PrecisionTarget(0.5, on_infeasible="warn")
    ),
    # Recalibrated: predict_proba, decision_function and predict agree, so every
    # check passes, including check_classifiers_train.
    ThresholdTunedClassifier(LogisticRegression(), recalibrate=True),
    ThresholdTunedClassifier(
        LinearSVC(), objective=CostMatrix([[0, 1], [2, 0]]), recalibrate=True
    ),
    ThresholdTunedClassifier(
        DecisionTreeClassifier(max_depth=4, random_state=0),
        objective="balanced_accuracy",
        recalibrate=True,
    ),
    PiecewiseLogisticCalibrator(),
]


def expected_failed_checks(estimator):
    if isinstance(estimator, PiecewiseLogisticCalibrator) or estimator.recalibrate:
        return {}
    return UNCUT_SCORES


@parametrize_with_checks(ESTIMATORS, expected_failed_checks=expected_failed_checks)
def test_sklearn_compatible_estimator(estimator, check):
    check(estimator)
