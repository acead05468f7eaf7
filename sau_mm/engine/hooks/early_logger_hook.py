"""EarlyLoggerHook: MMEngine's LoggerHook that also logs the first
iterations of every start, so a run shows it is alive within a minute."""
from typing import Sequence

from mmengine.hooks import LoggerHook
from mmpretrain.registry import HOOKS


@HOOKS.register_module()
class EarlyLoggerHook(LoggerHook):
    """LoggerHook (same options) that also logs the ``first_iters``-th
    iterations (default the 1st and the 10th) counted from each start of
    training, a resume included: a busy CPU takes minutes to reach the
    regular ``interval`` (50). Those extra lines go to the text log only;
    the scalars file (``vis_data``) keeps the regular ``interval``."""

    def __init__(self, *args, first_iters: Sequence[int] = (1, 10),
                 **kwargs):
        super().__init__(*args, **kwargs)
        self.first_iters = tuple(first_iters)
        self._start_iter = 0

    def before_train(self, runner) -> None:
        self._start_iter = runner.iter

    def _regular(self, runner, batch_idx: int) -> bool:
        """Whether LoggerHook logs this iteration itself."""
        return self.every_n_inner_iters(batch_idx, self.interval) or (
            self.end_of_epoch(runner.train_dataloader, batch_idx) and (
                not self.ignore_last
                or len(runner.train_dataloader) <= self.interval))

    def after_train_iter(self, runner, batch_idx: int, data_batch=None,
                         outputs=None) -> None:
        super().after_train_iter(runner, batch_idx, data_batch, outputs)
        done = runner.iter + 1 - self._start_iter  # in this start
        if done in self.first_iters and not self._regular(runner, batch_idx):
            _, log_str = runner.log_processor.get_log_after_iter(
                runner, batch_idx, 'train')
            runner.logger.info(log_str)
