"""Make the text-to-image synthetic complement of a long-tailed dataset.

    python tools/generate_synthetic.py plan CONFIG --out-dir D
        [--target-count N] [--oversample 1.0] [--resolution R]
        [--cfg-options k=v ...]
    python tools/generate_synthetic.py prompts --out-dir D [--mode basic]
        [--template 'A photo of a {class}.' ...]
    python tools/generate_synthetic.py prompts --out-dir D --mode llm
        --base-url http://host:8000/v1 --model NAME [--api-key-env VAR]
    python tools/generate_synthetic.py generate --out-dir D --pipeline-dir P
        [--steps 50] [--guidance 7.5] [--batch-size 16] [--seed 0]
    python tools/generate_synthetic.py filter --out-dir D --clip-model ViT-B-32
        --clip-checkpoint W.bin [--threshold T | --keep-fraction F]
    python tools/generate_synthetic.py inspect --out-dir D

`--help` (also after a stage name) lists every option. The command line
lives in sau_mm.generation.text2image.cli.
"""
import sys

import sau_mm  # noqa: F401  (compat fixes + registration, first)
from sau_mm.generation.text2image.cli import main

if __name__ == '__main__':
    sys.exit(main())
