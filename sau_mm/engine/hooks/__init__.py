from .class_counts_hook import ClassCountsHook  # noqa: F401
from .rng_state_hook import RNGStateHook  # noqa: F401
