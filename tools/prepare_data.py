"""Get a dataset into the layout the configs read, and verify it.

    python tools/prepare_data.py cifar10 [--archive cifar-10-python.tar.gz]
    python tools/prepare_data.py cifar100 [--archive cifar-100-python.tar.gz]
    python tools/prepare_data.py cifar10-jpeg --archive cifar10-jpeg.tar.gz
    python tools/prepare_data.py imagenet-lt [--data-root data/imagenet]

Without --archive, cifar10/cifar100 are downloaded (md5-checked). A second run
finds the verified data and does nothing. See sau_mm/datasets/prepare.py.
"""
import argparse
import sys

import sau_mm  # noqa: F401  (compat fixes, before mmpretrain)
from sau_mm.datasets.prepare import (ARCHIVES, IMAGENET_LT_SOURCES,
                                     PrepareError, check_imagenet_lt,
                                     prepare_archive)


def parse_args():
    parser = argparse.ArgumentParser(
        description='Download or unpack a dataset and verify it.')
    sub = parser.add_subparsers(dest='dataset', required=True)
    for name, spec in ARCHIVES.items():
        p = sub.add_parser(name, help=f'{spec.filename} -> '
                           f'DATA_ROOT/{spec.subdir + "/" if spec.subdir else ""}'
                           f'{spec.folder}')
        p.add_argument('--archive', help=f'a local copy of {spec.filename} '
                       '(instead of downloading it)')
        p.add_argument('--data-root', default='data',
                       help='where the configs look for data (default: data)')
    p = sub.add_parser('imagenet-lt', help='where ImageNet-LT comes from; '
                       'check a folder against its split files')
    p.add_argument('--data-root', default='data/imagenet',
                   help='folder with ImageNet_LT_{train,val,test}.txt and '
                   'the images (default: data/imagenet)')
    return parser.parse_args()


def main():
    args = parse_args()
    try:
        if args.dataset != 'imagenet-lt':
            prepare_archive(args.dataset, args.data_root, args.archive)
            return
        print(IMAGENET_LT_SOURCES + '\n')
        checks = check_imagenet_lt(args.data_root)
    except PrepareError as e:
        sys.exit(f'prepare_data {args.dataset}: {e}')
    for check in checks:
        print(check.describe())
    if not all(c.ok for c in checks):
        sys.exit(f'prepare_data imagenet-lt: {args.data_root} is incomplete '
                 '(see above).')
    print(f'{args.data_root}: every image of the ImageNet-LT split files is '
          'there.')


if __name__ == '__main__':
    main()
