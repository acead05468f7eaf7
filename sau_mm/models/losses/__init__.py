from .class_balanced_loss import ClassBalancedLoss  # noqa: F401
from .logit_adjusted_loss import LogitAdjustedLoss  # noqa: F401
from .supcon_noise import SupConNoiseLoss  # noqa: F401
from .gradual_balanced_loss import GradualBalancedLoss  # noqa: F401
