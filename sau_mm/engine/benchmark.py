"""Training throughput and peak memory of configs, side by side.

Each (config, round) runs in its own process, so peak memory is per config;
rounds alternate the configs to spread machine noise. Throughput counts
training samples (a batch of B samples is B images, however many views or
forward passes a method makes of each) over ``iters`` timed iterations of
``model.train_step`` with the config's own dataloader, after ``warmup``.
The per-epoch hooks (e.g. SAU's prototype pass) are timed separately.
"""
import json
import resource
import statistics
import subprocess
import sys
import time
from typing import List, Optional

import torch
from mmengine.config import Config
from mmengine.runner import Runner

from .image_folder_settings import apply_image_folder_settings


def _sync():
    if torch.cuda.is_available():
        torch.cuda.synchronize()


def measure(config: str, iters: int, warmup: int,
            cfg_options: Optional[dict] = None) -> dict:
    """Time ``iters`` training iterations of one config in this process."""
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
    runner.model.train()
    batches = iter(loader)
    if torch.cuda.is_available():
        torch.cuda.reset_peak_memory_stats()
    for i in range(warmup + iters):
        if i == warmup:
            _sync()
            start = time.perf_counter()
        try:
            batch = next(batches)
        except StopIteration:
            batches = iter(loader)
            batch = next(batches)
        runner.model.train_step(batch, runner.optim_wrapper)
    _sync()
    elapsed = time.perf_counter() - start
    batch_size = loader.batch_size
    result = dict(config=config, images_per_s=iters * batch_size / elapsed,
                  s_per_iter=elapsed / iters, batch_size=batch_size,
                  epoch_hooks_s=epoch_hooks_s,
                  device='cuda' if torch.cuda.is_available() else 'cpu')
    if torch.cuda.is_available():
        result['peak_mem_mib'] = torch.cuda.max_memory_allocated() / 2**20
        result['device_name'] = torch.cuda.get_device_name()
    else:  # whole-process peak resident memory (ru_maxrss is KiB on Linux)
        result['peak_mem_mib'] = resource.getrusage(
            resource.RUSAGE_SELF).ru_maxrss / 1024
    return result


def compare(configs: List[str], iters: int, warmup: int, rounds: int,
            cfg_options: List[str]) -> List[dict]:
    """Run every config ``rounds`` times (alternating) in subprocesses and
    return per-config medians; prints a table with ratios to the first."""
    runs = {c: [] for c in configs}
    for r in range(rounds):
        for config in configs:
            cmd = [sys.executable, '-m', 'sau_mm.engine.benchmark', config,
                   '--iters', str(iters), '--warmup', str(warmup)]
            if cfg_options:
                cmd += ['--cfg-options'] + cfg_options
            out = subprocess.run(cmd, capture_output=True, text=True)
            if out.returncode != 0:
                raise RuntimeError(f'benchmark of {config} failed:\n'
                                   f'{out.stderr[-3000:]}')
            runs[config].append(json.loads(out.stdout.strip().splitlines()[-1]))
            print(f'round {r + 1}: {config}: '
                  f'{runs[config][-1]["images_per_s"]:.1f} img/s', flush=True)
    summary = []
    for config in configs:
        rs = runs[config]
        summary.append(dict(
            config=config,
            images_per_s=statistics.median(x['images_per_s'] for x in rs),
            peak_mem_mib=max(x['peak_mem_mib'] for x in rs),
            epoch_hooks_s=statistics.median(x['epoch_hooks_s'] for x in rs),
            device=rs[0].get('device_name', rs[0]['device']),
            batch_size=rs[0]['batch_size']))
    base = summary[0]['images_per_s']
    print(f'\n{"config":60s} {"img/s":>9s} {"ratio":>6s} {"peak MiB":>9s} '
          f'{"epoch hooks s":>13s}')
    for s in summary:
        print(f'{s["config"]:60s} {s["images_per_s"]:9.1f} '
              f'{s["images_per_s"] / base:6.2f} {s["peak_mem_mib"]:9.0f} '
              f'{s["epoch_hooks_s"]:13.2f}')
    print(f'device: {summary[0]["device"]}, batch size '
          f'{summary[0]["batch_size"]}, {iters} timed iterations, median of '
          f'{rounds} round(s)')
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
