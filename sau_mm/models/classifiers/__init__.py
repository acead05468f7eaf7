from .dual_branch_classifier import DualBranchClassifier  # noqa: F401
from .feature_augmented_classifier import FeatureAugmentedClassifier  # noqa: F401,E501
