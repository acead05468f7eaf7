from .atomic_checkpoint_hook import AtomicCheckpointHook  # noqa: F401
from .class_counts_hook import ClassCountsHook  # noqa: F401
from .rng_state_hook import RNGStateHook  # noqa: F401
from .label_correction_hook import LabelCorrectionHook  # noqa: F401
from .prototype_update_hook import PrototypeUpdateHook  # noqa: F401
from .training_progress_hook import TrainingProgressHook  # noqa: F401
from .feature_statistics_hook import FeatureStatisticsHook  # noqa: F401
from .decoded_images_hook import DecodedImagesHook  # noqa: F401
