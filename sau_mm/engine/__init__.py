from .hooks import *  # noqa: F401,F403
from .optimizers import BF16AutocastOptimWrapper  # noqa: F401
