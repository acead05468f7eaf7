"""Throughput of the generate stage: images/s and peak memory.

python tools/benchmark_text2image.py PIPELINE_DIR [--num-images 32]
    [--batch-size 8] [--steps 50] [--guidance 7.5] [--resolution 32]
    [--device cuda] [--dtype auto] [--work-dir D]

Prints one line of JSON; see sau_mm.generation.text2image.benchmark.
"""
import sau_mm  # noqa: F401  (compat fixes + registration, first)
from sau_mm.generation.text2image.benchmark import main

if __name__ == '__main__':
    main()
