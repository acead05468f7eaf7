from .class_counts_hook import ClassCountsHook  # noqa: F401
from .rng_state_hook import RNGStateHook  # noqa: F401
from .label_correction_hook import LabelCorrectionHook  # noqa: F401
from .prototype_update_hook import PrototypeUpdateHook  # noqa: F401
