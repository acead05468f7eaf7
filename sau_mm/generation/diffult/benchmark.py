"""Throughput of a DiffuLT generator config: training steps/s and DDIM
sampling images/s (random weights and inputs; the speed does not depend on
them)."""
import time

import torch
from mmengine.config import Config
from mmengine.registry import init_default_scope
from mmpretrain.registry import MODELS
from mmpretrain.structures import DataSample


def _timed(fn, repeats: int, device: str) -> float:
    """Seconds per call of ``fn`` (one warm-up call first)."""
    fn()
    if device.startswith('cuda'):
        torch.cuda.synchronize()
    start = time.perf_counter()
    for _ in range(repeats):
        fn()
    if device.startswith('cuda'):
        torch.cuda.synchronize()
    return (time.perf_counter() - start) / repeats


def benchmark(config: str, batch_size: int = 16, train_iters: int = 5,
              sample_images: int = 8, sample_steps: int = 10,
              guidance: float = 0.8, device: str = 'cpu') -> dict:
    """Train step = forward (loss) + backward + grad clip 1 + Adam step;
    sampling = DDIM ``sample_steps`` steps with guidance (two UNet passes a
    step unless guidance is 0). Returns params, steps/s, images/s."""
    cfg = Config.fromfile(config)
    init_default_scope(cfg.get('default_scope', 'mmpretrain'))
    model = MODELS.build(cfg.model).to(device)
    size = model.unet.config.sample_size
    optimizer = torch.optim.Adam(model.parameters(), lr=2e-4)
    inputs = torch.rand(batch_size, 3, size, size, device=device) * 2 - 1
    samples = [DataSample().set_gt_label(i % model.num_classes)
               for i in range(batch_size)]

    def train_step():
        loss = model.loss(inputs, samples)['loss_mse']
        optimizer.zero_grad()
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        optimizer.step()

    model.train()
    step_s = _timed(train_step, train_iters, device)
    model.eval()
    labels = [i % model.num_classes for i in range(sample_images)]

    def sample():
        model.sample(labels, [torch.Generator().manual_seed(i)
                              for i in range(sample_images)], guidance,
                     'ddim', sample_steps)

    sample_s = _timed(sample, 1, device)
    return dict(config=config, device=device, threads=torch.get_num_threads(),
                params_m=sum(p.numel() for p in model.parameters()) / 1e6,
                batch_size=batch_size, train_steps_per_s=1 / step_s,
                train_images_per_s=batch_size / step_s,
                sample_steps=sample_steps, guidance=guidance,
                sample_images_per_s=sample_images / sample_s)
