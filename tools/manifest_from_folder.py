"""Build a synthetic manifest from an image folder (folder/<class>/<file>).

Examples:
  # images made elsewhere, one folder per class
  python tools/manifest_from_folder.py my_images data/synthetic/x/manifest.jsonl \
      --source my-generator --dataset-config configs/sau/resnet32_cifar10jpeg_lt.py
  # ORACLE complement for diagnosis only: the real training images that the
  # LT subset of the config left out (never report it as synthetic data)
  python tools/manifest_from_folder.py data/cifar10-jpeg/train \
      data/synthetic/cifar10jpeg_lt_if100_oracle/manifest.jsonl --source oracle \
      --dataset-config configs/sau/resnet32_cifar10jpeg_lt.py --exclude-lt-subset
"""
import argparse

import sau_mm  # noqa: F401
from mmengine.config import Config, DictAction
from mmpretrain.registry import DATASETS

from sau_mm.datasets.manifest_builders import manifest_from_image_folder
from sau_mm.datasets.wrappers import long_tail_dataset_cfg


def real_train_dataset(config: str, cfg_options=None):
    full = Config.fromfile(config)
    if cfg_options:
        full.merge_from_dict(cfg_options)
    key, cfg = long_tail_dataset_cfg(full)
    if cfg is None:
        raise SystemExit(f'--dataset-config {config}: {key} holds no '
                         'LongTailSyntheticDataset to take the classes from.')
    cfg.synthetic_manifest = None
    cfg.pipeline = []
    return DATASETS.build(cfg)


def main():
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('folder')
    parser.add_argument('manifest')
    parser.add_argument('--source', required=True,
                        help="what made the images ('oracle' for held-out "
                        'real images)')
    parser.add_argument('--dataset-config',
                        help='take class names (label order) from this '
                        "config's training dataset")
    parser.add_argument('--exclude-lt-subset', action='store_true',
                        help="leave out the images of the config's real "
                        'long-tailed subset')
    parser.add_argument('--cfg-options', nargs='+', action=DictAction,
                        help='override settings of --dataset-config, e.g. '
                        'train_dataloader.dataset.dataset.data_root=DIR')
    args = parser.parse_args()
    classes, exclude = None, []
    if args.dataset_config:
        dataset = real_train_dataset(args.dataset_config, args.cfg_options)
        classes = dataset.metainfo['classes']
        if args.exclude_lt_subset:
            exclude = [dataset.get_data_info(i)['img_path']
                       for i in dataset.real_indices]
    elif args.exclude_lt_subset or args.cfg_options:
        parser.error('--exclude-lt-subset and --cfg-options need '
                     '--dataset-config')
    n = manifest_from_image_folder(args.folder, args.manifest, args.source,
                                   classes, exclude)
    print(f'Wrote {n} records to {args.manifest} '
          f'({len(exclude)} images of the LT subset excluded).')


if __name__ == '__main__':
    main()
