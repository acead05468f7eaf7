"""Training throughput, compute share and peak memory of configs, side by
side.

Each (case, round) runs in its own process, so peak memory is per case;
rounds alternate the cases to spread machine noise. A case is a config plus
its own ``--cfg-options``. Per case:

- ``samples_per_s``: training samples (a batch of B samples is B, however
  many views or passes a method makes of each) over ``iters`` timed
  ``model.train_step`` calls fed by the config's own dataloader (after
  ``warmup``): loading, augmentation, transfer and compute;
- ``bare_samples_per_s``: the same step on one fixed batch that went through
  the data preprocessor once (the forward, losses, backward and optimizer
  step of the model alone), and ``ratio_to_bare``, the share of that bare
  speed the whole path reaches (1.0: the data path costs nothing);
- ``flop_per_sample`` (one training step, ``torch.utils.flop_counter``:
  convolutions and matrix products, forward and backward), achieved
  ``tflop_per_s`` and, on a GPU of known bfloat16 peak, ``bf16_peak_share``;
- ``s_per_epoch``: the sampler's epoch length over ``samples_per_s``;
- ``epoch_hooks_s``: the per-epoch hooks (e.g. SAU's prototype pass).
"""
import json
import resource
import statistics
import subprocess
import sys
import time
from dataclasses import dataclass, field
from typing import Dict, List, Optional, Sequence

import torch
from mmengine.config import Config
from mmengine.runner import Runner
from torch.utils.flop_counter import FlopCounterMode

from .image_folder_settings import apply_image_folder_settings

# dense bfloat16 tensor-core peak, FLOP/s, by device-name substring (first
# match): vendor data sheets
BF16_PEAK = (('H100 PCIe', 756e12), ('H100', 989e12), ('H200', 989e12),
             ('GH200', 989e12), ('A100', 312e12), ('L40S', 362e12),
             ('L4', 121e12))


def bf16_peak(device_name: str) -> Optional[float]:
    for key, peak in BF16_PEAK:
        if key in device_name:
            return peak
    return None


def _sync():
    if torch.cuda.is_available():
        torch.cuda.synchronize()


def _timed(fn, iters: int, warmup: int) -> float:
    for i in range(warmup + iters):
        if i == warmup:
            _sync()
            start = time.perf_counter()
        fn()
    _sync()
    return time.perf_counter() - start


def _bare_step(model, optim_wrapper, data):
    """train_step without the data preprocessor (``data`` is its output)."""
    with optim_wrapper.optim_context(model):
        losses = model._run_forward(data, mode='loss')
    parsed, _ = model.parse_losses(losses)
    optim_wrapper.update_params(parsed)


def measure(config: str, iters: int, warmup: int,
            cfg_options: Optional[dict] = None) -> dict:
    """Measure one config in this process (see the module docstring)."""
    cfg = Config.fromfile(config)
    if cfg_options:
        cfg.merge_from_dict(cfg_options)
    apply_image_folder_settings(cfg, cfg_options)
    cfg.work_dir = cfg.get('work_dir') or '/tmp/sau_mm_benchmark'
    cfg.log_level = 'WARNING'
    runner = Runner.from_cfg(cfg)
    loader = runner.train_loop.dataloader
    runner.optim_wrapper = runner.build_optim_wrapper(runner.optim_wrapper)
    runner.call_hook('before_run')
    runner.call_hook('before_train')
    _sync()
    start = time.perf_counter()
    runner.call_hook('before_train_epoch')
    _sync()
    epoch_hooks_s = time.perf_counter() - start
    model, optim_wrapper = runner.model, runner.optim_wrapper
    model.train()
    if torch.cuda.is_available():
        torch.cuda.reset_peak_memory_stats()
    batches = iter(loader)

    def next_batch():
        nonlocal batches
        try:
            return next(batches)
        except StopIteration:
            batches = iter(loader)
            return next(batches)

    def loader_step():
        runner.call_hook('before_train_iter', batch_idx=0, data_batch=None)
        model.train_step(next_batch(), optim_wrapper)

    elapsed = _timed(loader_step, iters, warmup)
    with optim_wrapper.optim_context(model):
        fixed = model.data_preprocessor(next_batch(), True)
    bare = _timed(lambda: _bare_step(model, optim_wrapper, fixed), iters,
                  warmup)
    flops = FlopCounterMode(display=False)
    with flops:
        _bare_step(model, optim_wrapper, fixed)
    batch_size = loader.batch_size
    samples_per_s = iters * batch_size / elapsed
    device_name = (torch.cuda.get_device_name() if torch.cuda.is_available()
                   else 'cpu')
    result = dict(
        config=config, cfg_options=cfg_options or {}, device=device_name,
        batch_size=batch_size, samples_per_s=samples_per_s,
        s_per_iter=elapsed / iters,
        bare_samples_per_s=iters * batch_size / bare,
        ratio_to_bare=bare / elapsed,
        s_per_epoch=len(loader.sampler) / samples_per_s,
        flop_per_sample=flops.get_total_flops() / batch_size,
        epoch_hooks_s=epoch_hooks_s,
        optim_wrapper=type(optim_wrapper).__name__)
    result['tflop_per_s'] = result['flop_per_sample'] * samples_per_s / 1e12
    peak = bf16_peak(device_name)
    if peak:
        result['bf16_peak_share'] = result['tflop_per_s'] * 1e12 / peak
    if torch.cuda.is_available():
        result['peak_mem_mib'] = torch.cuda.max_memory_allocated() / 2**20
    else:  # whole-process peak resident memory (ru_maxrss is KiB on Linux)
        result['peak_mem_mib'] = resource.getrusage(
            resource.RUSAGE_SELF).ru_maxrss / 1024
    return result


@dataclass
class Case:
    """One benchmarked setting: a config and its own --cfg-options."""
    name: str
    config: str
    options: List[str] = field(default_factory=list)


def device_path_suite(sau_manifest: str, data_root: Optional[str] = None,
                      imbalance_factor: Optional[int] = None) -> List[Case]:
    """The device-path comparison on CIFAR-10 (JPEG)-LT (IF=100
    unless ``imbalance_factor``; ``data_root`` replaces data/cifar10-jpeg):
    CE classic, SAU classic (16/32/64 channels) and SAU widened, each on the
    CPU path and the device path, CE classic and SAU widened also with bf16
    autocast. SAU needs a synthetic (or oracle) complement:
    ``sau_manifest``."""
    ce = 'configs/baselines/resnet32_cifar10jpeg_lt/ce'
    sau = 'configs/sau/resnet32_cifar10jpeg_lt'

    def data(train_key):
        out = [f'{train_key}.synthetic_manifest={sau_manifest}'] \
            if train_key.endswith('.dataset.dataset') else []
        if data_root:
            out += [f'{key}.data_root={data_root}' for key in (
                train_key, 'val_dataloader.dataset', 'test_dataloader.dataset')]
        if imbalance_factor:
            out.append(f'{train_key}.imbalance_factor={imbalance_factor}')
        return out

    ce_data = data('train_dataloader.dataset')
    sau_data = data('train_dataloader.dataset.dataset')
    classic = ['model.backbone.base_channels=16', 'model.head.in_channels=64']
    bf16 = ['optim_wrapper.type=BF16AutocastOptimWrapper']
    cases = []
    for name, config, options in (('ce_classic', ce, ce_data),
                                  ('sau_classic', sau, sau_data + classic),
                                  ('sau_widened', sau, sau_data)):
        cases += [Case(f'{name}/cpu_path', f'{config}.py', options),
                  Case(f'{name}/device_path', f'{config}_device.py', options)]
        if name != 'sau_classic':
            cases.append(Case(f'{name}/device_path_bf16',
                              f'{config}_device.py', options + bf16))
    return cases


def _run_case(case: Case, iters: int, warmup: int,
              common: Sequence[str]) -> dict:
    cmd = [sys.executable, '-m', 'sau_mm.engine.benchmark', case.config,
           '--iters', str(iters), '--warmup', str(warmup)]
    options = list(common) + case.options
    if options:
        cmd += ['--cfg-options'] + options
    out = subprocess.run(cmd, capture_output=True, text=True)
    if out.returncode != 0:
        raise RuntimeError(f'benchmark of {case.name} ({case.config}) '
                           f'failed:\n{out.stderr[-3000:]}')
    return json.loads(out.stdout.strip().splitlines()[-1])


def compare(cases: List[Case], iters: int, warmup: int, rounds: int,
            cfg_options: Sequence[str] = ()) -> List[dict]:
    """Run every case ``rounds`` times (alternating) in subprocesses; print a
    table (ratios to the first case) and return per-case medians."""
    runs: Dict[str, List[dict]] = {c.name: [] for c in cases}
    for r in range(rounds):
        for case in cases:
            res = _run_case(case, iters, warmup, cfg_options)
            runs[case.name].append(res)
            print(f'round {r + 1}/{rounds}: {case.name}: '
                  f'{res["samples_per_s"]:.1f} samples/s '
                  f'(bare {res["bare_samples_per_s"]:.1f})', flush=True)
    summary = []
    for case in cases:
        rs = runs[case.name]
        med = {k: statistics.median(x[k] for x in rs)
               for k in rs[0] if isinstance(rs[0][k], float)}
        med['peak_mem_mib'] = max(x['peak_mem_mib'] for x in rs)
        summary.append(dict(rs[0], **med, name=case.name, rounds=rounds))
    base = summary[0]['samples_per_s']
    print(f'\n{"case":32s} {"samples/s":>10s} {"vs 1st":>7s} {"bare":>9s} '
          f'{"of bare":>7s} {"s/epoch":>8s} {"TFLOP/s":>8s} {"peak%":>6s} '
          f'{"MiB":>7s} {"ep.hooks s":>10s}')
    for s in summary:
        share = (f'{100 * s["bf16_peak_share"]:6.1f}'
                 if 'bf16_peak_share' in s else f'{"-":>6s}')
        print(f'{s["name"]:32s} {s["samples_per_s"]:10.1f} '
              f'{s["samples_per_s"] / base:7.2f} '
              f'{s["bare_samples_per_s"]:9.1f} {s["ratio_to_bare"]:7.2f} '
              f'{s["s_per_epoch"]:8.1f} {s["tflop_per_s"]:8.3f} {share} '
              f'{s["peak_mem_mib"]:7.0f} {s["epoch_hooks_s"]:10.2f}')
    print(f'device: {summary[0]["device"]}; {iters} timed iterations, median '
          f'of {rounds} round(s); "of bare": samples/s over the same step on '
          'a fixed preprocessed batch')
    return summary


def _single():
    import argparse

    import sau_mm  # noqa: F401
    from mmengine.config import DictAction
    parser = argparse.ArgumentParser()
    parser.add_argument('config')
    parser.add_argument('--iters', type=int, default=20)
    parser.add_argument('--warmup', type=int, default=3)
    parser.add_argument('--cfg-options', nargs='+', action=DictAction)
    args = parser.parse_args()
    print(json.dumps(measure(args.config, args.iters, args.warmup,
                             args.cfg_options)))


if __name__ == '__main__':
    _single()
