from .dual_branch_classifier import DualBranchClassifier  # noqa: F401
