from .loading import LoadImage  # noqa: F401
from .cifar_autoaugment import CIFAR10AutoAugment  # noqa: F401
from .cutout import Cutout  # noqa: F401
from .sim_augment import SimAugment  # noqa: F401
from .sau_views import CONTRASTIVE_VIEWS, SAUView, SAUViews  # noqa: F401
from .pack_index import PackIndex  # noqa: F401
