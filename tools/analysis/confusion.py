"""Confusion matrix of a checkpoint on its test set, classes by size.

python tools/analysis/confusion.py CONFIG CHECKPOINT [--out DIR]
    [--device cuda] [--batch-size 256] [--num-workers 0]
    [--cfg-options k=v ...]   (as in training, e.g. image_folder.data_root=...)

Writes DIR/confusion.png (rows normalised to %, largest training class
first), confusion.json and confusion.csv (counts); DIR defaults to the
checkpoint's folder. See sau_mm.analysis.confusion.
"""
import argparse
import os.path as osp

import sau_mm  # noqa: F401  (compat fixes + registration, before mmengine)
import torch
from mmengine.config import DictAction

from sau_mm.analysis.confusion import compute_confusion, write_confusion


def main():
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('config')
    parser.add_argument('checkpoint')
    parser.add_argument('--out', help='output folder (default: the '
                        'checkpoint\'s folder)')
    parser.add_argument('--device', default='cuda' if
                        torch.cuda.is_available() else 'cpu')
    parser.add_argument('--batch-size', type=int, default=256)
    parser.add_argument('--num-workers', type=int, default=0)
    parser.add_argument('--cfg-options', nargs='+', action=DictAction,
                        help='override config settings, key=value, as in '
                        'training')
    args = parser.parse_args()
    result = compute_confusion(args.config, args.checkpoint, args.cfg_options,
                               args.device, args.batch_size,
                               args.num_workers)
    out = args.out or osp.dirname(osp.abspath(args.checkpoint))
    name = osp.splitext(osp.basename(args.config))[0]
    paths = write_confusion(result, out, f'Confusion matrix: {name}, '
                            f'{osp.basename(args.checkpoint)} (test set)')
    print('\n'.join(paths.values()))


if __name__ == '__main__':
    main()
