"""Per-class quality of a synthetic set, in the feature space of a
classifier trained on the real data (no external weights).

python -m sau_mm.cli.synthetic_report MANIFEST DATASET_CONFIG \
    ENCODER_CONFIG ENCODER_CHECKPOINT --out DIR
    [--noise-flags WORK_DIR/noise_flags/epoch_N.json] [--k 3] [--pca-dims 8]
    [--sheet-images 8] [--batch-size 256] [--num-workers 0] [--device cuda]
    [--cfg-options k=v ...]   (both configs, as in training)

Writes DIR/index.html (static page: the table beside a contact sheet per
class), DIR/synthetic_report.json, DIR/synthetic_report.md and
DIR/sheets/*.png: per class synthetic / kept / dropped / flagged counts,
filter scores, improved precision and recall (k = 3), Frechet distance
(marked unreliable where a class has no more images than feature
dimensions), the Frechet distance after a PCA projection to --pca-dims
dimensions, and the encoder's agreement. See sau_mm.analysis.synthetic_report.
"""
import argparse

import torch
from mmengine.config import DictAction

from sau_mm.analysis.synthetic_report import PCA_DIMS, synthetic_report


def main():
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('manifest', help='synthetic manifest (.jsonl)')
    parser.add_argument('dataset_config', help='config whose real LT '
                        'training set is the reference')
    parser.add_argument('encoder_config', help='classifier config')
    parser.add_argument('encoder_checkpoint', help='its checkpoint')
    parser.add_argument('--out', required=True, help='output folder')
    parser.add_argument('--noise-flags', help='noise_flags/epoch_N.json of '
                        'a SAU run on this manifest')
    parser.add_argument('--k', type=int, default=3,
                        help='neighbours of precision / recall')
    parser.add_argument('--pca-dims', type=int, default=PCA_DIMS,
                        help="d' of the projected Frechet distance: both "
                        "sets on the top d' principal directions of the "
                        'pooled real features (reliable where a class is '
                        "compared on more than d' images; default "
                        f'{PCA_DIMS})')
    parser.add_argument('--sheet-images', type=int, default=8,
                        help='images per contact-sheet row')
    parser.add_argument('--batch-size', type=int, default=256)
    parser.add_argument('--num-workers', type=int, default=0)
    parser.add_argument('--device', default='cuda' if
                        torch.cuda.is_available() else 'cpu')
    parser.add_argument('--cfg-options', nargs='+', action=DictAction,
                        help='override settings of both configs, key=value')
    args = parser.parse_args()
    synthetic_report(args.manifest, args.dataset_config, args.encoder_config,
                     args.encoder_checkpoint, args.out, args.cfg_options,
                     args.noise_flags, args.k, args.sheet_images,
                     args.batch_size, args.num_workers, args.device,
                     pca_dims=args.pca_dims)


if __name__ == '__main__':
    main()
