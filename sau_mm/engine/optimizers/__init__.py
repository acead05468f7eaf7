from .bf16_autocast_optim_wrapper import BF16AutocastOptimWrapper  # noqa: F401
