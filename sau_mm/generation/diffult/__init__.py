"""DiffuLT: a class-conditional DDPM trained on the long-tailed set itself,
sampled for the complement of each class, filtered with a classifier of the
real data (configs/diffult, tools/diffult_*.py)."""
from .ddpm_model import ClassConditionalDDPM  # noqa: F401
from .filtering import (agreement_filter, centroid_filter,  # noqa: F401
                        filter_manifest)
from .sampling import load_generator, sample_complement  # noqa: F401
from .training import (DiffusionSamplesHook,  # noqa: F401
                       ExactResumeIterBasedTrainLoop, IterRNGStateHook)
