"""Build and load times of the decoded-image cache for a config's training set.

  PYTHONPATH=. python tools/benchmark_image_cache.py \
      configs/baselines/resnet32_cifar10jpeg_lt/ce.py \
      --synthetic-manifest /tmp/cache_oracle/manifest.jsonl \
      --cache-dir /tmp/cache_oracle/cache --image-size 32 --num-workers 2

Deletes the cache folder of the dataset's key first (unless --keep), so the
build is measured, then times: the key alone, a load with the checksum
verified, a load without, and reading every pixel into RAM once. Figures are
printed, not asserted.
"""
import argparse
import os.path as osp
import shutil
import time

import numpy as np
import sau_mm  # noqa: F401
from mmengine.config import Config
from mmpretrain.registry import DATASETS

from sau_mm.datasets.image_cache import build_or_load, cache_key


def train_dataset(config: str, manifest):
    cfg = Config.fromfile(config).train_dataloader.dataset
    cfg = cfg.get('dataset', cfg) if cfg.type == 'MixPartnerDataset' else cfg
    if manifest is not None:
        cfg.synthetic_manifest = manifest or None
    cfg.pipeline = []
    return DATASETS.build(cfg)


def timed(fn):
    t0 = time.perf_counter()
    out = fn()
    return out, time.perf_counter() - t0


def main():
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('config')
    parser.add_argument('--synthetic-manifest',
                        help="replaces the config's ('' for real only)")
    parser.add_argument('--cache-dir', required=True)
    parser.add_argument('--image-size', type=int)
    parser.add_argument('--num-workers', type=int)
    parser.add_argument('--keep', action='store_true',
                        help='do not delete an existing cache first')
    args = parser.parse_args()

    ds, t_ds = timed(lambda: train_dataset(args.config,
                                           args.synthetic_manifest))
    key, t_key = timed(lambda: cache_key(ds, args.image_size))
    if not args.keep:
        shutil.rmtree(osp.join(args.cache_dir, key), ignore_errors=True)
    kw = dict(image_size=args.image_size, num_workers=args.num_workers)
    built, t_build = timed(lambda: build_or_load(ds, args.cache_dir, **kw))
    _, t_verify = timed(lambda: build_or_load(ds, args.cache_dir, **kw))
    loaded, t_fast = timed(
        lambda: build_or_load(ds, args.cache_dir, verify=False, **kw))
    _, t_read = timed(lambda: np.array(loaded.images))
    n, mb = len(built), built.images.nbytes / 1e6
    print(f'dataset: {ds.num_real} real + {n - ds.num_real} synthetic = {n} '
          f'images, array {tuple(built.images.shape)} uint8 = {mb:.0f} MB '
          f'(dataset built in {t_ds:.2f} s)')
    print(f'cache folder: {built.path}')
    print(f'key alone:              {t_key:7.2f} s')
    print(f'build (decode + write): {t_build:7.2f} s  ({n / t_build:.0f} '
          f'images/s, {kw["num_workers"] or "default"} workers)')
    print(f'load, verify=True:      {t_verify:7.2f} s  (key + checks + '
          'CRC-32 of the array)')
    print(f'load, verify=False:     {t_fast:7.2f} s  (key + checks)')
    print(f'read all pixels to RAM: {t_read:7.2f} s')


if __name__ == '__main__':
    main()
