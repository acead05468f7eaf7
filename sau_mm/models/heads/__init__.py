from .projection_head import ProjectionMLP  # noqa: F401
from .synthetic_weighted_head import SyntheticWeightedClsHead  # noqa: F401
