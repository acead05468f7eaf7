from .data_preprocessor import MultiViewClsDataPreprocessor  # noqa: F401
from .device_views_preprocessor import DeviceViewsDataPreprocessor  # noqa: F401
from .knn_label_corrector import KNNLabelCorrector  # noqa: F401
from .label_correction import knn_clean_mask  # noqa: F401
from .mix import cutmix, cutmix_box, mixup, sample_lambda  # noqa: F401
from .prototypes import ClassPrototypes  # noqa: F401
from .tail_feature_generator import CalibratedTailFeatures  # noqa: F401
from . import batch_views  # noqa: F401
