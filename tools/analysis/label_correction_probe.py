"""Flag a planted manifest's images with SAU's label correction against
other neighbour banks, from a trained SAU checkpoint.

python tools/analysis/label_correction_probe.py CONFIG CHECKPOINT MANIFEST
    [--views test|train|v1] [--repeats 3] [--banks ...] [--out DIR]
    [--cfg-options ...]

CONFIG, CHECKPOINT: a SAU run's config and checkpoint. MANIFEST: a planted
manifest (tools/corrupt_manifest.py; rate 0 for clean images only) that
replaces the config's synthetic_manifest. --views test: the test
pipeline's view (no augmentation); train: SAU's contrastive training views,
drawn anew each simulated epoch (a *_device config); v1: the classification
branch's view (crop + flip), drawn so. Per bank (batch reals +
prototypes, as SAU; batches filled to the largest class; prototypes only;
batch reals only; all reals + prototypes): the false-flag rate on clean
images, precision and recall per planted kind, averaged over simulated
epochs (definitions in sau_mm/analysis/label_correction_probe.py). Prints
the Markdown tables; writes DIR/label_correction_probe.json and .md
(default DIR: the checkpoint's folder/label_correction_probe_VIEWS).
"""
import argparse
import os.path as osp
import sys

import sau_mm  # noqa: F401  (compat fixes + registration, before mmengine)
from mmengine.config import DictAction

from sau_mm.analysis.label_correction_probe import (BANKS, VIEWS,
                                                    ProbeError,
                                                    load_probe_set,
                                                    markdown_probe, probe,
                                                    write_probe)
from sau_mm.analysis.noise_detection import NoiseDetectionError


def main():
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('config', help="the SAU run's config")
    parser.add_argument('checkpoint', help='its checkpoint (.pth)')
    parser.add_argument('manifest', help='a planted manifest')
    parser.add_argument('--views', choices=list(VIEWS), default='test',
                        help='the views embedded (default test)')
    parser.add_argument('--repeats', type=int, default=3,
                        help='simulated epochs per bank (default 3)')
    parser.add_argument('--banks', nargs='+', choices=list(BANKS),
                        help='banks to probe (default: all)')
    parser.add_argument('--seed', type=int, default=0)
    parser.add_argument('--out', help='output folder')
    parser.add_argument('--cfg-options', nargs='+', action=DictAction,
                        help='override settings of CONFIG')
    args = parser.parse_args()
    for path in (args.config, args.checkpoint, args.manifest):
        if not osp.isfile(path):
            sys.exit(f'label_correction_probe: {path} does not exist.')
    if args.repeats < 1:
        sys.exit('label_correction_probe: --repeats must be >= 1.')
    try:
        probe_set = load_probe_set(args.config, args.checkpoint,
                                   args.manifest, args.cfg_options)
        report = probe(probe_set, args.views, args.repeats, args.seed,
                       args.banks)
    except (ProbeError, NoiseDetectionError) as e:
        sys.exit(f'label_correction_probe: {e}')
    out = args.out or osp.join(osp.dirname(osp.abspath(args.checkpoint)),
                               f'label_correction_probe_{args.views}')
    paths = write_probe(report, out)
    print(markdown_probe(report), end='')
    print(f'Wrote {", ".join(paths)}.')


if __name__ == '__main__':
    main()
