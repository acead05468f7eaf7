"""Copy the first N images of every class of an image folder (smoke runs).

python -m sau_mm.cli.subset_image_folder SRC DST --per-class train=50 test=20

SRC/<split>/<class>/<file> -> DST/<split>/<class>/<file>, the first N files
by sorted name (see sau_mm.datasets.folder_subset). Rerunning with a complete
DST does nothing.
"""
import argparse
import sys

from sau_mm.datasets.folder_subset import subset_image_folder


def split_count(text: str):
    split, _, n = text.partition('=')
    if not split or not n.isdigit():
        raise argparse.ArgumentTypeError(
            f'expected SPLIT=N (e.g. train=50), got {text!r}')
    return split, int(n)


def main():
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('src', help='image folder: SRC/<split>/<class>/...')
    parser.add_argument('dst', help='where the copy goes (must not exist, '
                        'or be this very subset)')
    parser.add_argument('--per-class', nargs='+', type=split_count,
                        required=True, metavar='SPLIT=N',
                        help='images per class of each split')
    args = parser.parse_args()
    try:
        plan = subset_image_folder(args.src, args.dst, dict(args.per_class))
    except (OSError, ValueError) as e:
        sys.exit(f'subset_image_folder: {e}')
    for split, classes in plan.items():
        counts = [len(f) for f in classes.values()]
        print(f'{args.dst}/{split}: {sum(counts)} images, {len(counts)} '
              f'classes ({min(counts)}..{max(counts)} per class)')


if __name__ == '__main__':
    main()
