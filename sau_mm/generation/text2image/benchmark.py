"""Throughput of the generate stage: images/s and peak memory.

python tools/benchmark_text2image.py PIPELINE_DIR [--num-images 32]
    [--batch-size 8] [--steps 50] [--guidance 7.5] [--resolution 32]
    [--device cuda] [--dtype auto] [--work-dir D]

Times the generate stage of tools/generate_synthetic.py (generation,
resizing, atomic PNG writes, manifest) on a one-class plan of --num-images
images with basic prompts, after one warm-up batch; prints one line of JSON.
"""
import argparse
import json
import resource
import tempfile
import time
from typing import List, Optional

import torch

from .generate import generate_images, load_pipeline
from .plan import compute_plan, write_plan
from .prompts import make_prompts


def parse_args(argv: Optional[List[str]] = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('pipeline_dir', help='local diffusers pipeline')
    parser.add_argument('--pipeline-class')
    parser.add_argument('--num-images', type=int, default=32)
    parser.add_argument('--batch-size', type=int, default=8)
    parser.add_argument('--steps', type=int, default=50)
    parser.add_argument('--guidance', type=float, default=7.5)
    parser.add_argument('--resolution', type=int, default=32)
    parser.add_argument('--device', default='cuda' if
                        torch.cuda.is_available() else 'cpu')
    parser.add_argument('--dtype', default='auto',
                        choices=['auto', 'fp32', 'fp16', 'bf16'])
    parser.add_argument('--work-dir', help='output folder (default: a '
                        'temporary one, deleted afterwards)')
    return parser.parse_args(argv)


def benchmark(args: argparse.Namespace, out_dir: str) -> dict:
    """Run the timed generate stage in ``out_dir``; the measurements."""
    plan = compute_plan(['object'], [0], target_count=args.num_images,
                        resolution=args.resolution)
    write_plan(out_dir, plan)
    make_prompts(out_dir, plan)
    start = time.perf_counter()
    pipe = load_pipeline(args.pipeline_dir,
                         pipeline_class=args.pipeline_class,
                         device=args.device, dtype=args.dtype)
    load_s = time.perf_counter() - start
    pipe(prompt=['A photo of an object.'] * args.batch_size,
         num_inference_steps=args.steps, guidance_scale=args.guidance)
    cuda = str(args.device).startswith('cuda')
    if cuda:
        torch.cuda.synchronize()
        torch.cuda.reset_peak_memory_stats()
    start = time.perf_counter()
    stats = generate_images(out_dir, pipe, steps=args.steps,
                            guidance=args.guidance,
                            batch_size=args.batch_size)
    if cuda:
        torch.cuda.synchronize()
    seconds = time.perf_counter() - start
    peak = (torch.cuda.max_memory_allocated() if cuda else
            resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024)
    return dict(pipeline=type(pipe).__name__, device=str(args.device),
                threads=torch.get_num_threads(), images=stats['generated'],
                batch_size=args.batch_size, steps=args.steps,
                load_s=round(load_s, 3), seconds=round(seconds, 3),
                images_per_s=round(stats['generated'] / seconds, 3),
                peak_memory_mib=round(peak / 2**20, 1),
                peak_memory_kind='cuda allocated' if cuda else
                'process max RSS')


def main(argv: Optional[List[str]] = None) -> dict:
    """Parse ``argv`` (None: ``sys.argv[1:]``), benchmark, print the result
    as one line of JSON and return it."""
    args = parse_args(argv)
    if args.work_dir:
        result = benchmark(args, args.work_dir)
    else:
        with tempfile.TemporaryDirectory() as out_dir:
            result = benchmark(args, out_dir)
    print(json.dumps(result))
    return result
