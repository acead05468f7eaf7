"""Filter DiffuLT samples with a classifier trained on the real LT data.

python -m sau_mm.cli.diffult_filter MANIFEST CLS_CONFIG CLS_CHECKPOINT
    [--out OUT] [--rule centroid|agreement] [--quantile 0.1] [--threshold 0.5]
    [--target-count N] [--batch-size 256] [--num-workers 2] [--device cuda]
    [--cfg-options k=v ...]   (the classifier config's, as in its training)

centroid: keep a sample whose feature's cosine similarity to its class's
real-feature centre is >= the quantile q of the real images' similarities;
agreement: keep a sample predicted as its class with probability >=
threshold. Writes OUT (default: MANIFEST's folder/manifest_filtered.jsonl),
OUT-stem.report.json and .report.log (see sau_mm.generation.diffult.filtering).
"""
import argparse
import os.path as osp

import torch
from mmengine.config import Config, DictAction

from sau_mm.engine.image_folder_settings import apply_image_folder_settings
from sau_mm.generation.diffult.filtering import RULES, filter_manifest
from sau_mm.generation.diffult_layout import FILTERED


def parse_args():
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('manifest', help='manifest of tools/diffult_sample.py')
    parser.add_argument('cls_config', help='classifier config (real LT data)')
    parser.add_argument('cls_checkpoint', help='classifier checkpoint')
    parser.add_argument('--out', help='filtered manifest path')
    parser.add_argument('--rule', choices=RULES, default='centroid')
    parser.add_argument('--quantile', type=float, default=0.1,
                        help='centroid: per-class quantile of the real '
                        'images\' similarities')
    parser.add_argument('--threshold', type=float, default=0.5,
                        help='agreement: minimum probability of the class')
    parser.add_argument('--target-count', type=int,
                        help='fill target for the report (default: the '
                        'largest real class)')
    parser.add_argument('--batch-size', type=int, default=256)
    parser.add_argument('--num-workers', type=int, default=2)
    parser.add_argument('--device', default='cuda' if torch.cuda.is_available()
                        else 'cpu')
    parser.add_argument(
        '--cfg-options', nargs='+', action=DictAction,
        help='override settings of the classifier config, key=value, as '
        'when it was trained (e.g. image_folder.data_root=data/my_images)')
    return parser.parse_args()


def main():
    args = parse_args()
    out = args.out or osp.join(osp.dirname(args.manifest), FILTERED)
    cfg = Config.fromfile(args.cls_config)
    if args.cfg_options:
        cfg.merge_from_dict(args.cfg_options)
    apply_image_folder_settings(cfg, args.cfg_options)
    filter_manifest(args.manifest, cfg, args.cls_checkpoint, out,
                    args.rule, args.threshold, args.quantile,
                    args.target_count, args.batch_size, args.num_workers,
                    args.device)


if __name__ == '__main__':
    main()
