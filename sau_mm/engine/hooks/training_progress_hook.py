"""TrainingProgressHook: hand the training progress to model modules."""
from mmengine.hooks import Hook
from mmengine.model import is_model_wrapper
from mmpretrain.registry import HOOKS


@HOOKS.register_module()
class TrainingProgressHook(Hook):
    """Before every training iteration, give every model submodule with
    ``set_progress(epoch, max_epochs)`` (e.g. ``GradualBalancedLoss``) the
    fractional epoch t = runner.iter / iterations per epoch and the run's
    length T = max_iters / iterations per epoch (= max_epochs), and log the
    scalars it returns as ``train/<name>`` (e.g. ``glag_alpha``) in the
    message hub, so they appear in the log and ``vis_data`` every logged
    iteration. The module owns what it does with t; the hook only says when.
    t follows runner.iter, so a resumed run continues the schedule exactly.
    """
    priority = 'ABOVE_NORMAL'

    def before_train_iter(self, runner, batch_idx: int,
                          data_batch=None) -> None:
        iters_per_epoch = len(runner.train_dataloader)
        epoch = runner.iter / iters_per_epoch
        max_epochs = runner.max_iters / iters_per_epoch
        model = runner.model
        if is_model_wrapper(model):
            model = model.module
        for module in model.modules():
            if hasattr(module, 'set_progress'):
                scalars = module.set_progress(epoch, max_epochs) or {}
                for name, value in scalars.items():
                    runner.message_hub.update_scalar(f'train/{name}', value)
