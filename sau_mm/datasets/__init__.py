from . import transforms  # noqa: F401
from .image_cache import DecodedImages, build_or_load, cache_key  # noqa: F401
from .long_tail import long_tail_counts, select_long_tail, shot_group  # noqa: F401
from .lt_synthetic_dataset import LongTailSyntheticDataset  # noqa: F401
from .manifest import (ManifestRecord, read_manifest,  # noqa: F401
                       write_manifest)
from .mix_partner_dataset import MixPartnerDataset  # noqa: F401
from .samplers import ClassBalancedSampler, MixPartnerSampler  # noqa: F401
