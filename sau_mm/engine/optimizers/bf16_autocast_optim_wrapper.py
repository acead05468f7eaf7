"""BF16AutocastOptimWrapper: bfloat16 mixed precision, no loss scaling."""
from contextlib import contextmanager

import torch
from mmengine.optim import OptimWrapper
from mmpretrain.registry import OPTIM_WRAPPERS


@OPTIM_WRAPPERS.register_module()
class BF16AutocastOptimWrapper(OptimWrapper):
    """OptimWrapper whose forward (data preprocessor, model, losses) runs
    under ``torch.autocast(device, dtype=torch.bfloat16)``: convolutions and
    matrix products in bfloat16, parameters, gradients and the optimizer
    step in float32.

    bfloat16 has float32's exponent range, so unlike float16 it needs no
    loss scaling: MMEngine's ``AmpOptimWrapper`` would still run a
    ``GradScaler`` (an inf check and a host sync every step); this wrapper
    does not. It works on CUDA and on CPU (where MMEngine's AMP refuses to
    run); the device is the model's.
    """

    @contextmanager
    def optim_context(self, model: torch.nn.Module):
        device = next(model.parameters()).device.type
        with super().optim_context(model), torch.autocast(
                device, dtype=torch.bfloat16):
            yield
