"""Tiny local models and a fake LLM server for the generation tests.

Nothing is downloaded: the diffusers pipeline, its tokenizer and the
open_clip model are built here with random weights and saved to folders.
"""
import contextlib
import glob
import json
import os
import os.path as osp
import subprocess
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import torch
from PIL import Image

from sau_mm.datasets.manifest import read_manifest

from . import ROOT


@contextlib.contextmanager
def one_torch_thread():
    """Tiny models run fastest on one thread, and do not collapse when
    another process shares a 2-core CPU (OpenMP spin-waiting)."""
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        yield
    finally:
        torch.set_num_threads(before)


def _byte_chars():
    """GPT-2 / CLIP byte-to-unicode table (the BPE base alphabet)."""
    bs = (list(range(ord('!'), ord('~') + 1)) +
          list(range(ord('\xa1'), ord('\xac') + 1)) +
          list(range(ord('\xae'), ord('\xff') + 1)))
    cs, n = bs[:], 0
    for b in range(256):
        if b not in bs:
            bs.append(b)
            cs.append(256 + n)
            n += 1
    return [chr(c) for c in cs]


def make_tiny_pipeline(folder: str, sample_size: int = 16) -> str:
    """A random StableDiffusionPipeline (about 63k parameters, images of
    2 * sample_size pixels) saved to ``folder``; a byte-level CLIP tokenizer
    with no merges."""
    from diffusers import (AutoencoderKL, DDIMScheduler,
                           StableDiffusionPipeline, UNet2DConditionModel)
    from transformers import CLIPTextConfig, CLIPTextModel, CLIPTokenizer
    chars = _byte_chars()
    vocab = {c: i for i, c in enumerate(chars + [c + '</w>' for c in chars]
                                        + ['<|startoftext|>',
                                           '<|endoftext|>'])}
    tok_dir = osp.join(folder, '_tokenizer_src')
    os.makedirs(tok_dir, exist_ok=True)
    with open(osp.join(tok_dir, 'vocab.json'), 'w') as f:
        json.dump(vocab, f)
    with open(osp.join(tok_dir, 'merges.txt'), 'w') as f:
        f.write('#version: 0.2\n')
    tokenizer = CLIPTokenizer(vocab=osp.join(tok_dir, 'vocab.json'),
                              merges=osp.join(tok_dir, 'merges.txt'),
                              model_max_length=77)
    torch.manual_seed(0)
    unet = UNet2DConditionModel(
        block_out_channels=(4, 8), layers_per_block=1,
        sample_size=sample_size, in_channels=4, out_channels=4,
        down_block_types=('DownBlock2D', 'CrossAttnDownBlock2D'),
        up_block_types=('CrossAttnUpBlock2D', 'UpBlock2D'),
        cross_attention_dim=32, norm_num_groups=2)
    vae = AutoencoderKL(
        block_out_channels=[4, 8], in_channels=3, out_channels=3,
        down_block_types=['DownEncoderBlock2D'] * 2,
        up_block_types=['UpDecoderBlock2D'] * 2, latent_channels=4,
        norm_num_groups=2)
    text_encoder = CLIPTextModel(CLIPTextConfig(
        bos_token_id=tokenizer.bos_token_id,
        eos_token_id=tokenizer.eos_token_id,
        pad_token_id=tokenizer.pad_token_id, hidden_size=32,
        intermediate_size=37, num_attention_heads=4, num_hidden_layers=2,
        vocab_size=len(vocab), max_position_embeddings=77))
    scheduler = DDIMScheduler(beta_start=0.00085, beta_end=0.012,
                              beta_schedule='scaled_linear',
                              clip_sample=False, set_alpha_to_one=False)
    pipe = StableDiffusionPipeline(
        unet=unet, scheduler=scheduler, vae=vae, text_encoder=text_encoder,
        tokenizer=tokenizer, safety_checker=None, feature_extractor=None,
        requires_safety_checker=False)
    pipe_dir = osp.join(folder, 'tiny-sd')
    pipe.save_pretrained(pipe_dir)
    return pipe_dir


def finished_images(out_dir: str):
    """Image files at their final paths (temp files excluded)."""
    return glob.glob(osp.join(out_dir, 'images', '*', '[0-9]*.png'))


def run_and_signal(argv, out_dir: str, sig: int, after_more: int):
    """Start tools/generate_synthetic.py ``argv`` in a subprocess, send it
    ``sig`` once ``after_more`` new images exist; (returncode, output)."""
    before = len(finished_images(out_dir))
    env = dict(os.environ, PYTHONPATH=ROOT, OMP_NUM_THREADS='1')
    proc = subprocess.Popen([sys.executable, 'tools/generate_synthetic.py']
                            + argv, cwd=ROOT, env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                            text=True)
    deadline = time.monotonic() + 120
    while len(finished_images(out_dir)) < before + after_more:
        assert proc.poll() is None, proc.communicate()[0][-3000:]
        assert time.monotonic() < deadline
        time.sleep(0.02)
    proc.send_signal(sig)
    output = proc.communicate(timeout=60)[0]
    return proc.returncode, output


def assert_exact_manifest(out_dir: str, counts) -> None:
    """manifest.jsonl lists images/<c>/<i>.png for i < counts[c], in order,
    once each; all decode; nothing else (no temp file) is on disk."""
    records = read_manifest(osp.join(out_dir, 'manifest.jsonl'))
    planned = [f'images/{c}/{i:06d}.png' for c, n in enumerate(counts)
               for i in range(n)]
    assert [r.path for r in records] == planned
    assert [r.label for r in records] == [c for c, n in enumerate(counts)
                                          for _ in range(n)]
    assert len({r.seed for r in records}) == len(planned)
    for r in records:
        with Image.open(osp.join(out_dir, r.path)) as img:
            img.load()
    on_disk = sorted(osp.relpath(p, out_dir) for p in
                     glob.glob(osp.join(out_dir, 'images', '*', '*'))
                     + glob.glob(osp.join(out_dir, 'images', '*', '.*')))
    assert on_disk == sorted(planned)


TINY_CLIP = dict(
    embed_dim=16,
    vision_cfg=dict(image_size=32, layers=1, width=32, patch_size=8,
                    head_width=16),
    text_cfg=dict(context_length=77, vocab_size=49408, width=32, heads=2,
                  layers=1))


def make_tiny_clip(folder: str, name: str = 'tiny-clip-test'):
    """(config file, checkpoint, model name) of a random tiny open_clip
    model registered with open_clip.add_model_config."""
    import open_clip
    os.makedirs(folder, exist_ok=True)
    config = osp.join(folder, f'{name}.json')
    with open(config, 'w') as f:
        json.dump(TINY_CLIP, f)
    open_clip.add_model_config(config)
    torch.manual_seed(0)
    model = open_clip.create_model(name)
    checkpoint = osp.join(folder, f'{name}.pt')
    torch.save(model.state_dict(), checkpoint)
    return config, checkpoint, name


class FakeLLM:
    """A /v1/chat/completions server on 127.0.0.1. The request's model name
    picks the behaviour:

    - ``normal``: a new description each time (``{class}`` and a counter);
    - ``repeat-N``: the same answer for the first N requests, then normal;
    - ``slow-N``: the first N requests sleep past the client timeout;
    - ``error-N``: the first N requests answer HTTP 500;
    - ``garbage``: 200 with an HTML body; ``empty``: empty content;
    - ``long``: an 80-word answer; ``unauthorized``: HTTP 401.
    """

    def __init__(self, slow_seconds: float = 1.5):
        self.requests = []
        self.slow_seconds = slow_seconds
        self._lock = threading.Lock()
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):
                pass

            def do_POST(self):
                body = json.loads(self.rfile.read(
                    int(self.headers['Content-Length'])))
                body['authorization'] = self.headers.get('Authorization')
                fake._answer(self, body)

        class Server(ThreadingHTTPServer):
            daemon_threads = True

            def handle_error(self, request, client_address):
                pass  # a client that timed out closed the socket: expected

        self.server = Server(('127.0.0.1', 0), Handler)
        self.base_url = f'http://127.0.0.1:{self.server.server_port}/v1'
        self._thread = threading.Thread(target=self.server.serve_forever,
                                        daemon=True)

    def __enter__(self):
        self._thread.start()
        return self

    def __exit__(self, *exc):
        self.server.shutdown()
        self.server.server_close()

    def count(self, model: str) -> int:
        return sum(1 for r in self.requests if r['model'] == model)

    def _answer(self, handler, body):
        model = body['model']
        with self._lock:
            self.requests.append(body)
            n = self.count(model)
        kind, _, arg = model.partition('-')
        first_n = int(arg) if arg.isdigit() else 0
        query = body['messages'][-1]['content']
        cls = query.split('What the ', 1)[-1].split(' looks like?')[0]
        if kind == 'slow' and n <= first_n:
            time.sleep(self.slow_seconds)
        if kind == 'error' and n <= first_n:
            return self._send(handler, 500, b'{"error": {"message": "boom"}}')
        if kind == 'unauthorized':
            return self._send(handler, 401,
                              b'{"error": {"message": "bad key"}}')
        if kind == 'garbage':
            return self._send(handler, 200, b'<html>not an API</html>',
                              'text/html')
        content = f'A photo of the class {cls}, variant {n}, on a meadow.'
        if kind == 'repeat' and n <= first_n:
            content = f'A photo of the class {cls}, always the same.'
        elif kind == 'empty':
            content = '   '
        elif kind == 'long':
            content = f'A photo of the class {cls} ' + 'very ' * 80
        answer = dict(id=f'c{n}', object='chat.completion', created=0,
                      model=model, choices=[dict(
                          index=0, finish_reason='stop',
                          message=dict(role='assistant', content=content))])
        self._send(handler, 200, json.dumps(answer).encode())

    @staticmethod
    def _send(handler, status, data, ctype='application/json'):
        handler.send_response(status)
        handler.send_header('Content-Type', ctype)
        handler.send_header('Content-Length', str(len(data)))
        handler.end_headers()
        handler.wfile.write(data)
