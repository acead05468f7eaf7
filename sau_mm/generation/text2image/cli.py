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

Each stage reads the files of the previous ones from D and can be rerun on
its own; interrupted stages resume (see sau_mm.generation.text2image). The
dataset config then points at D/manifest.jsonl
(``train_dataloader.dataset.synthetic_manifest``).
"""
import argparse
import contextlib
import logging
import os
import os.path as osp
import signal
import threading
import time
from typing import List, Optional

import torch
from mmengine.config import DictAction
from mmengine.logging import MMLogger, print_log

from .layout import LOG_DIR, StageError
from .prompts import (ANSWER_TEMPLATE, DEFAULT_TEMPLATE, QUERY_TEMPLATE,
                      SYSTEM_PROMPT)

DEFAULT_DEVICE = 'cuda' if torch.cuda.is_available() else 'cpu'


def parse_args(argv: Optional[List[str]] = None) -> argparse.Namespace:
    """The command line of ``tools/generate_synthetic.py`` (``sys.argv[1:]``
    when ``argv`` is None)."""
    parser = argparse.ArgumentParser(
        description=__doc__.split('\n')[0],
        formatter_class=argparse.RawDescriptionHelpFormatter, epilog=__doc__)
    sub = parser.add_subparsers(dest='stage', required=True)

    def stage(name, help):
        p = sub.add_parser(name, help=help)
        p.add_argument('--out-dir', required=True,
                       help='output folder shared by all stages')
        return p

    p = stage('plan', 'images needed per class, from a dataset config')
    p.add_argument('config', help='config whose train_dataloader.dataset is '
                   'a LongTailSyntheticDataset')
    p.add_argument('--cfg-options', nargs='+', action=DictAction,
                   help='override config keys, xxx=yyy')
    p.add_argument('--target-count', type=int,
                   help='fill each class to this many images (default: the '
                   "dataset's target_count, else the largest real class)")
    p.add_argument('--oversample', type=float, default=1.0,
                   help='make ceil(oversample * complement) images per class '
                   '(spare images for the filter to drop)')
    p.add_argument('--resolution', type=int,
                   help='side of the written images (default: the real '
                   "images' side; needed for non-square data)")

    p = stage('prompts', 'one prompt per planned image')
    p.add_argument('--mode', choices=['basic', 'llm'], default='basic')
    p.add_argument('--template', action='append',
                   help='basic mode, repeatable (default '
                   f'{DEFAULT_TEMPLATE!r})')
    p.add_argument('--base-url', help='OpenAI-compatible API root')
    p.add_argument('--model', help='chat model name (authors: gpt-3.5-turbo)')
    p.add_argument('--api-key-env', default='OPENAI_API_KEY',
                   help='environment variable holding the API key')
    p.add_argument('--temperature', type=float, default=1.0)
    p.add_argument('--max-tokens', type=int, default=120,
                   help='answer token limit sent with each request (0: none)')
    p.add_argument('--max-words', type=int, default=60,
                   help='longer answers are cut to this many words')
    p.add_argument('--allow-missing-class-name', action='store_true',
                   help='keep answers that do not name the class as they are'
                   ' (default: prefix "A photo of a {class}.")')
    p.add_argument('--timeout', type=float, default=60.0,
                   help='seconds per request')
    p.add_argument('--retries', type=int, default=5,
                   help='retries per request (exponential backoff)')
    p.add_argument('--backoff', type=float, default=1.0,
                   help='first retry delay in seconds, doubled each retry')
    p.add_argument('--workers', type=int, default=8,
                   help='concurrent requests')
    p.add_argument('--duplicate-retries', type=int, default=3,
                   help='ask again this often when an answer repeats one the'
                   ' class already has')
    p.add_argument('--system-prompt', default=SYSTEM_PROMPT)
    p.add_argument('--query-template', default=QUERY_TEMPLATE)
    p.add_argument('--answer-template', default=ANSWER_TEMPLATE,
                   help="response template given to the LLM ('' for none)")

    p = stage('generate', 'text-to-image generation (resumable)')
    p.add_argument('--pipeline-dir', required=True,
                   help='local diffusers pipeline folder (save_pretrained)')
    p.add_argument('--pipeline-class',
                   help='diffusers class name or package.module:Class '
                   '(default: AutoPipelineForText2Image)')
    p.add_argument('--variant', help="weights variant, e.g. 'fp16'")
    p.add_argument('--steps', type=int, default=50,
                   help='inference steps (paper, GLIDE: 100)')
    p.add_argument('--guidance', type=float, default=7.5,
                   help='classifier-free guidance scale (paper, GLIDE: 3.0)')
    p.add_argument('--seed', type=int, default=0,
                   help='base seed; image i of class c uses a seed derived '
                   'from (seed, c, i)')
    p.add_argument('--batch-size', type=int, default=16)
    p.add_argument('--height', type=int, help='generation height (default: '
                   "the pipeline's); images are then resized to the plan's "
                   'resolution (LANCZOS)')
    p.add_argument('--width', type=int, help='generation width')
    p.add_argument('--negative-prompt')
    p.add_argument('--image-format', choices=['png', 'jpg'], default='png')
    p.add_argument('--source', help='manifest source name (default: '
                   'text2image:<pipeline folder name>)')
    p.add_argument('--device', default=DEFAULT_DEVICE)
    p.add_argument('--dtype', choices=['auto', 'fp32', 'fp16', 'bf16'],
                   default='auto', help='auto: fp16 on CUDA, fp32 on CPU')
    p.add_argument('--shard', default='0/1',
                   help='I/N: make planned images k with k %% N == I (one '
                   'process per GPU)')
    p.add_argument('--check-workers', type=int, default=8,
                   help='threads checking existing images on resume')

    p = stage('filter', 'CLIP scores and optional dropping')
    p.add_argument('--clip-model', required=True,
                   help="open_clip model name, or 'local-dir:/path'")
    p.add_argument('--clip-checkpoint',
                   help='local weights file (omit: random weights, tests)')
    p.add_argument('--clip-config',
                   help='JSON open_clip model config to register (its file '
                   'stem is the model name)')
    p.add_argument('--threshold', type=float,
                   help='keep images scoring >= this (cosine similarity)')
    p.add_argument('--keep-fraction', type=float,
                   help='keep the best fraction of each class')
    p.add_argument('--text-source', choices=['class', 'prompt'],
                   default='class',
                   help="score against the class text or the image's prompt")
    p.add_argument('--template', default='a photo of a {class}.',
                   help='class text template')
    p.add_argument('--batch-size', type=int, default=64)
    p.add_argument('--workers', type=int, default=0,
                   help='image-loading worker processes')
    p.add_argument('--device', default=DEFAULT_DEVICE)
    p.add_argument('--precision', default='fp32',
                   choices=['fp32', 'fp16', 'bf16', 'amp'])

    p = stage('inspect', 'contact sheets of real vs synthetic images')
    p.add_argument('--num-real', type=int, default=8)
    p.add_argument('--num-synthetic', type=int, default=8)
    p.add_argument('--num-lowest', type=int, default=8)
    p.add_argument('--tile', type=int, default=64, help='tile side in pixels')
    p.add_argument('--classes', type=int, nargs='+',
                   help='class indices (default: all with synthetic images)')
    p.add_argument('--seed', type=int, default=0)
    return parser.parse_args(argv)


# Stage modules are imported by their runner: only `generate` pays for
# diffusers, only `filter` for open_clip.
def run_plan(args: argparse.Namespace) -> None:
    from .plan import plan_from_config, write_plan
    plan = plan_from_config(args.config, args.cfg_options,
                            target_count=args.target_count,
                            oversample=args.oversample,
                            resolution=args.resolution)
    write_plan(args.out_dir, plan)


def run_prompts(args: argparse.Namespace) -> None:
    from .plan import read_plan
    from .prompts import LLMClient, make_prompts
    client = None
    if args.mode == 'llm':
        if not args.base_url or not args.model:
            raise StageError('--mode llm needs --base-url and --model.')
        client = LLMClient(
            args.base_url, args.model, api_key_env=args.api_key_env,
            temperature=args.temperature, max_tokens=args.max_tokens,
            timeout=args.timeout, max_retries=args.retries,
            backoff=args.backoff, max_words=args.max_words,
            require_class_name=not args.allow_missing_class_name,
            system_prompt=args.system_prompt,
            query_template=args.query_template,
            answer_template=args.answer_template)
    make_prompts(args.out_dir, read_plan(args.out_dir), mode=args.mode,
                 templates=args.template, client=client,
                 workers=args.workers,
                 max_duplicate_retries=args.duplicate_retries)


def run_generate(args: argparse.Namespace) -> None:
    from .generate import generate_images, load_pipeline
    index, count = (int(x) for x in args.shard.split('/'))
    if not 0 <= index < count:
        raise StageError(f'--shard {args.shard}: need 0 <= I < N.')
    pipe = load_pipeline(args.pipeline_dir,
                         pipeline_class=args.pipeline_class,
                         device=args.device, dtype=args.dtype,
                         variant=args.variant)
    stats = generate_images(
        args.out_dir, pipe, steps=args.steps, guidance=args.guidance,
        seed=args.seed, batch_size=args.batch_size, height=args.height,
        width=args.width, negative_prompt=args.negative_prompt,
        image_format=args.image_format, source=args.source,
        shard=(index, count), check_workers=args.check_workers)
    print_log(f'Generate done: {stats}', logger='current')


def run_filter(args: argparse.Namespace) -> None:
    from .clip_filter import ClipScorer, filter_images
    scorer = ClipScorer(args.clip_model, args.clip_checkpoint,
                        config_file=args.clip_config, device=args.device,
                        precision=args.precision)
    filter_images(args.out_dir, scorer, threshold=args.threshold,
                  keep_fraction=args.keep_fraction,
                  text_source=args.text_source, template=args.template,
                  batch_size=args.batch_size, workers=args.workers)


def run_inspect(args: argparse.Namespace) -> None:
    from .contact_sheet import inspect_out_dir
    inspect_out_dir(args.out_dir, num_real=args.num_real,
                    num_synthetic=args.num_synthetic,
                    num_lowest=args.num_lowest, tile=args.tile,
                    classes=args.classes, seed=args.seed)


STAGES = dict(plan=run_plan, prompts=run_prompts, generate=run_generate,
              filter=run_filter, inspect=run_inspect)


def _stop_on_sigterm(signum, frame):
    print_log('SIGTERM: stopping; rerun the same command to resume.',
              logger='current', level=30)
    raise SystemExit(128 + signum)


@contextlib.contextmanager
def _sigterm_exits():
    """While a stage runs, SIGTERM logs a resume hint and exits with status
    143 through SystemExit (so ``finally`` blocks remove temp files). Only
    the main thread can install handlers; the previous one is restored."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    previous = signal.signal(signal.SIGTERM, _stop_on_sigterm)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)


class PlainLines(logging.Formatter):
    """Stage log lines as ``2026-05-01 12:00:00 message`` (``... ERROR:
    message`` from warnings up), instead of MMLogger's ``- mmengine - ERROR
    - .../mmengine/logging/logger.py - print_log - 355 -`` prefix, which
    names mmengine's print_log rather than anything of ours."""

    def __init__(self):
        super().__init__(datefmt='%Y-%m-%d %H:%M:%S')

    def format(self, record: logging.LogRecord) -> str:
        level = '' if record.levelno <= logging.INFO else \
            f'{record.levelname}: '
        return f'{self.formatTime(record, self.datefmt)} {level}' \
            f'{record.getMessage()}'


def main(argv: Optional[List[str]] = None) -> int:
    """Run one stage (``argv`` as in ``tools/generate_synthetic.py``; None:
    ``sys.argv[1:]``); 0 on success, 1 on an error the message explains.
    SIGTERM while it runs raises ``SystemExit(143)``."""
    with _sigterm_exits():
        args = parse_args(argv)
        stamp = time.strftime('%Y%m%d_%H%M%S')
        os.makedirs(osp.join(args.out_dir, LOG_DIR), exist_ok=True)
        logger = MMLogger.get_instance(
            f'generate_synthetic_{args.stage}_{stamp}_{time.monotonic_ns()}',
            log_file=osp.join(args.out_dir, LOG_DIR,
                              f'{args.stage}_{stamp}.log'),
            file_mode='a')
        for handler in logger.handlers:  # console and log file
            handler.setFormatter(PlainLines())
        print_log(f'Stage {args.stage}, out_dir '
                  f'{osp.abspath(args.out_dir)}', logger='current')
        try:
            STAGES[args.stage](args)
        except (StageError, FileNotFoundError) as e:
            print_log(f'{args.stage} failed: {e}', logger='current',
                      level=40)
            return 1
        return 0
