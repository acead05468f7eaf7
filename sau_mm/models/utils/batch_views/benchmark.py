"""Throughput of the batched views against the CPU (PIL) views: images/s of
each view for one batch, the batched ops on ``device`` and the config's CPU
pipelines (configs/_base_/datasets/sau_cifar_views.py) image by image in
this process (one loader worker's work). Figures only, nothing asserted."""
import time
from typing import Dict

import numpy as np
import torch

from .recipe import VIEWS_CONFIG, sau_batch_views


def _best_time(fn, repeats: int, sync) -> float:
    fn()
    sync()
    times = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        fn()
        sync()
        times.append(time.perf_counter() - t0)
    return min(times)


def benchmark_views(batch: int = 512, repeats: int = 5, device: str = 'cpu',
                    seed: int = 0, cpu_path: bool = True) -> Dict[str, dict]:
    """{view: {'batched': images/s, 'pil': images/s}} on ``batch`` random
    32x32 images (best of ``repeats``)."""
    from mmengine.config import Config
    from mmpretrain.registry import TRANSFORMS

    rng = np.random.default_rng(seed)
    imgs = rng.integers(0, 256, (batch, 32, 32, 3), dtype=np.uint8)
    dev = torch.device(device)
    images = torch.from_numpy(imgs).permute(0, 3, 1, 2).contiguous().to(dev)
    generator = torch.Generator(device=dev).manual_seed(seed)
    sync = (torch.cuda.synchronize if dev.type == 'cuda' else lambda: None)
    cfg = Config.fromfile(VIEWS_CONFIG)
    figures = {}
    for key, view in sau_batch_views().items():
        seconds = _best_time(lambda: view(images, generator), repeats, sync)
        figures[key] = dict(batched=batch / seconds)
        if cpu_path:
            transforms = [TRANSFORMS.build(c) for c in cfg['view' + key[1]]]

            def run_pil():
                for img in imgs:
                    results = dict(img=img.copy())
                    for t in transforms:
                        results = t(results)

            seconds = _best_time(run_pil, max(1, repeats // 2), lambda: None)
            figures[key]['pil'] = batch / seconds
    return figures
