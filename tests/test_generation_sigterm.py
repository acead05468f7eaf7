"""The generate stage stopped with SIGTERM midway in a real subprocess of
tools/generate_synthetic.py: it exits cleanly (status 143, no temp file
left, a resume hint), and a rerun completes exactly the plan."""
import glob
import os.path as osp
import signal

from generation_fixtures import (assert_exact_manifest, finished_images,
                                 load_tool, make_tiny_pipeline,
                                 one_torch_thread, run_and_signal)

from sau_mm.generation.text2image.plan import compute_plan, write_plan
from sau_mm.generation.text2image.prompts import make_prompts


def test_sigterm_stops_cleanly_and_resumes(tmp_path):
    out = str(tmp_path / 'out')
    plan = compute_plan(['cat', 'dog'], [40, 0], resolution=32)
    write_plan(out, plan)
    make_prompts(out, plan)
    with one_torch_thread():
        pipe_dir = make_tiny_pipeline(str(tmp_path / 'models'))
    argv = ['generate', '--out-dir', out, '--pipeline-dir', pipe_dir,
            '--steps', '6', '--batch-size', '4', '--device', 'cpu']
    code, output = run_and_signal(argv, out, signal.SIGTERM, 8)
    assert code == 128 + signal.SIGTERM, output[-3000:]
    assert 'SIGTERM: stopping; rerun the same command to resume' in output
    assert not osp.exists(osp.join(out, 'manifest.jsonl'))
    assert 8 <= len(finished_images(out)) < 40
    assert not glob.glob(osp.join(out, 'images', '*', '.*.tmp-*'))
    with one_torch_thread():
        assert load_tool('generate_synthetic').main(argv) == 0
    assert_exact_manifest(out, [0, 40])  # also: no temp file left behind
