"""AtomicCheckpointHook: MMEngine's CheckpointHook with nothing lost to a
kill, and the best-so-far state carried through --resume."""
import glob
import os
import os.path as osp

from mmengine.dist import is_main_process
from mmengine.fileio.backends import LocalBackend
from mmengine.hooks import CheckpointHook
from mmpretrain.registry import HOOKS

from sau_mm.utils.fileio import TEMP_INFIX, atomic_path, atomic_write


def stateful_metrics(runner) -> dict:
    """The validation metrics that keep state across evaluations (those with
    ``state_dict`` / ``load_state_dict``, e.g. LongTailAccuracy's best
    top-1), by position and class name. Called during training, where the
    validation loop is built (or None)."""
    metrics = getattr(runner.val_loop, 'evaluator', None)
    return {f'{i}.{type(m).__name__}': m
            for i, m in enumerate(getattr(metrics, 'metrics', []))
            if hasattr(m, 'state_dict') and hasattr(m, 'load_state_dict')}


@HOOKS.register_module()
class AtomicCheckpointHook(CheckpointHook):
    """CheckpointHook (same options) whose files a kill cannot tear.

    - Every checkpoint (``epoch_N``/``iter_N``, ``best_*``, and the rewrite
      of ``epoch_N`` when a new best is found) is written to a temporary
      file in the same folder, fsynced and renamed over the target
      (``os.replace``); ``last_checkpoint`` is written the same way and only
      after the file it names is complete. Old files (``max_keep_ckpts``, the
      previous best) are removed only after their replacement is complete.
      Temporary files left by a killed run are removed at the next start.
    - The best-so-far state survives ``--resume``: MMEngine's own best score
      and best file travel in the message hub; the validation metrics' state
      (``LongTailAccuracy``'s best top-1, through its ``state_dict``) is
      saved here in ``checkpoint['metric_states']`` and restored on resume.
    - Epoch-based training: a checkpoint records the last validated epoch
      (``meta['evaluated_epoch']``); the epoch's checkpoint is rewritten
      after its validation. A run killed between the save and the end of
      that validation resumes by running that validation first, so the best
      score and the ``best_*`` file are those of an uninterrupted run.
    """

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self._evaluated_epoch = 0
        self._last_save = None  # (step, evaluated epoch stamped in it)
        self._pending = None  # (epoch, meta): saved, not yet validated
        self._loaded = None  # what after_load_checkpoint saw

    # ---------------------------------------------------------- bookkeeping
    def before_train(self, runner) -> None:
        super().before_train(runner)
        if is_main_process():
            self._remove_stale_temp_files(runner)
        loaded, self._loaded = self._loaded, None
        if loaded is None or not self._was_resumed(runner, loaded['meta']):
            return  # fresh start, or load_from (weights only)
        for key, metric in stateful_metrics(runner).items():
            if key in loaded['metric_states']:
                metric.load_state_dict(loaded['metric_states'][key])
        if not self.by_epoch or 'evaluated_epoch' not in loaded['meta']:
            return
        self._evaluated_epoch = loaded['meta']['evaluated_epoch']
        epoch = runner.epoch
        if self._evaluated_epoch != epoch and self._val_due(runner, epoch):
            runner.logger.info(
                f'The checkpoint of epoch {epoch} was saved before its '
                f'validation finished: validating epoch {epoch} now, as the '
                'uninterrupted run did.')
            self._pending = (epoch, dict(epoch=epoch, iter=runner.iter))
            runner.val_loop.run()

    def before_save_checkpoint(self, runner, checkpoint: dict) -> None:
        checkpoint['metric_states'] = {
            key: metric.state_dict()
            for key, metric in stateful_metrics(runner).items()}
        if self.by_epoch:
            checkpoint.setdefault('meta', {})['evaluated_epoch'] = \
                self._evaluated_epoch

    def after_load_checkpoint(self, runner, checkpoint: dict) -> None:
        self._loaded = dict(meta=dict(checkpoint.get('meta', {})),
                            metric_states=checkpoint.get('metric_states', {}))

    def after_train_epoch(self, runner) -> None:
        self._pending = None
        super().after_train_epoch(runner)
        if self.by_epoch and self._last_save and \
                self._last_save[0] == runner.epoch + 1:
            self._pending = (runner.epoch + 1,
                             dict(epoch=runner.epoch + 1, iter=runner.iter))

    def after_val_epoch(self, runner, metrics) -> None:
        if not self.by_epoch or not hasattr(self, 'out_dir'):
            return super().after_val_epoch(runner, metrics)
        self._evaluated_epoch = runner.epoch
        super().after_val_epoch(runner, metrics)
        pending, self._pending = self._pending, None
        if pending and pending[0] == runner.epoch and \
                self._last_save != (runner.epoch, runner.epoch):
            # record that this epoch was validated (and the metrics' state)
            self._save_checkpoint_with_step(runner, *pending)

    @staticmethod
    def _was_resumed(runner, meta: dict) -> bool:
        """A resume sets the loop's epoch and iteration to the checkpoint's;
        ``load_from`` leaves them at 0."""
        return bool(meta.get('iter')) and runner.iter == meta.get('iter') \
            and runner.epoch == meta.get('epoch')

    @staticmethod
    def _val_due(runner, epoch: int) -> bool:
        """Whether the epoch-based loop validates after ``epoch``."""
        loop = runner.train_loop
        if runner.val_loop is None or not hasattr(loop, 'val_interval'):
            return False
        if hasattr(loop, '_decide_current_val_interval'):
            loop._decide_current_val_interval()
        return epoch >= loop.val_begin and (
            epoch % loop.val_interval == 0 or epoch == loop.max_epochs)

    def _remove_stale_temp_files(self, runner) -> None:
        """Remove the temporary files of a killed run's checkpoint writes
        (``*.pth.tmp.*`` in the checkpoint folder, ``last_checkpoint.tmp.*``
        in the work dir), each once: with the default checkpoint folder (the
        work dir) both patterns match ``last_checkpoint.tmp.*``. A file
        already gone (another process removed it) is not an error."""
        if not isinstance(self.file_backend, LocalBackend):
            return
        stale = glob.glob(osp.join(glob.escape(self.out_dir),
                                   f'*{TEMP_INFIX}*')) + \
            glob.glob(osp.join(glob.escape(runner.work_dir),
                               f'last_checkpoint{TEMP_INFIX}*'))
        seen = set()
        for path in stale:
            key = osp.realpath(path)
            if key in seen or not osp.basename(path).split(
                    TEMP_INFIX)[0].endswith(('.pth', 'last_checkpoint')):
                continue
            seen.add(key)
            try:
                os.remove(path)
            except FileNotFoundError:
                continue
            runner.logger.info(f'Removed {path}, a partial checkpoint '
                               'of an interrupted run.')

    # -------------------------------------------------------------- writing
    def _save_atomic(self, runner, filename: str, **kwargs) -> None:
        """runner.save_checkpoint to a temporary name, then rename it."""
        local = isinstance(self.file_backend, LocalBackend)
        if not local or not is_main_process():  # object stores: put is
            runner.save_checkpoint(self.out_dir, filename, **kwargs)  # whole
            return
        with atomic_path(osp.join(self.out_dir, filename)) as tmp:
            runner.save_checkpoint(self.out_dir, osp.basename(tmp), **kwargs)

    def _remove(self, path) -> None:
        if self.file_backend.isfile(path):
            self.file_backend.remove(path)
        elif self.file_backend.isdir(path):  # deepspeed: directories
            self.file_backend.rmtree(path)

    def _save_checkpoint_with_step(self, runner, step, meta):
        """MMEngine's, with the outdated checkpoint removed after the new
        one and ``last_checkpoint`` written atomically."""
        outdated = None
        if self.max_keep_ckpts > 0 and not (
                self.keep_ckpt_ids and self.keep_ckpt_ids[-1] == step):
            if len(self.keep_ckpt_ids) == self.max_keep_ckpts:
                outdated = self.keep_ckpt_ids.popleft()
            self.keep_ckpt_ids.append(step)
            runner.message_hub.update_info('keep_ckpt_ids',
                                           list(self.keep_ckpt_ids))
        ckpt_filename = self.filename_tmpl.format(step)
        self.last_ckpt = self.file_backend.join_path(self.out_dir,
                                                     ckpt_filename)
        runner.message_hub.update_info('last_ckpt', self.last_ckpt)
        self._save_atomic(
            runner, ckpt_filename, file_client_args=self.file_client_args,
            save_optimizer=self.save_optimizer,
            save_param_scheduler=self.save_param_scheduler, meta=meta,
            by_epoch=self.by_epoch, backend_args=self.backend_args,
            **self.args)
        self._last_save = (step, self._evaluated_epoch)
        if not is_main_process():
            return
        atomic_write(osp.join(runner.work_dir, 'last_checkpoint'),
                     str(self.last_ckpt))
        if outdated is not None and outdated != step:
            self._remove(self.file_backend.join_path(
                self.out_dir, self.filename_tmpl.format(outdated)))

    def _save_best_checkpoint(self, runner, metrics) -> None:
        """MMEngine's, with the new best written (atomically) before the
        previous best is removed."""
        if not self.save_best:
            return
        if self.by_epoch:
            ckpt_filename = self.filename_tmpl.format(runner.epoch)
            cur_type, cur_time = 'epoch', runner.epoch
        else:
            ckpt_filename = self.filename_tmpl.format(runner.iter)
            cur_type, cur_time = 'iter', runner.iter
        meta = dict(epoch=runner.epoch, iter=runner.iter)
        if 'auto' in self.key_indicators:
            self._init_rule(self.rules, [list(metrics.keys())[0]])
        single = len(self.key_indicators) == 1
        best_ckpt_updated = False
        for key_indicator, rule in zip(self.key_indicators, self.rules):
            key_score = metrics[key_indicator]
            if single:
                best_score_key, runtime_best_ckpt_key = 'best_score', \
                    'best_ckpt'
                previous = self.best_ckpt_path
            else:
                best_score_key = f'best_score_{key_indicator}'
                runtime_best_ckpt_key = f'best_ckpt_{key_indicator}'
                previous = self.best_ckpt_path_dict[key_indicator]
            best_score = runner.message_hub.runtime_info.get(
                best_score_key, self.init_value_map[rule])
            if key_score is None or not self.is_better_than[key_indicator](
                    key_score, best_score):
                continue
            best_ckpt_updated = True
            best_score = key_score
            runner.message_hub.update_info(best_score_key, best_score)
            best_ckpt_name = f'best_{key_indicator}_{ckpt_filename}'.replace(
                '/', '_')
            path = self.file_backend.join_path(self.out_dir, best_ckpt_name)
            if single:
                self.best_ckpt_path = path
            else:
                self.best_ckpt_path_dict[key_indicator] = path
            runner.message_hub.update_info(runtime_best_ckpt_key, path)
            self._save_atomic(
                runner, best_ckpt_name, file_client_args=self.file_client_args,
                save_optimizer=False, save_param_scheduler=False, meta=meta,
                by_epoch=False, backend_args=self.backend_args)
            runner.logger.info(
                f'The best checkpoint with {best_score:0.4f} {key_indicator} '
                f'at {cur_time} {cur_type} is saved to {best_ckpt_name}.')
            if previous and previous != path and is_main_process() and \
                    self.file_backend.exists(previous):
                self._remove(previous)
                runner.logger.info(
                    f'The previous best checkpoint {previous} is removed')
        # as MMEngine: save the step's checkpoint again, so that it holds the
        # new best score and best file (and, here, the metrics' state)
        if best_ckpt_updated and self.last_ckpt is not None:
            self._save_checkpoint_with_step(runner, cur_time, meta)
