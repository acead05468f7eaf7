"""The generate stage killed with SIGKILL midway in a real subprocess of
tools/generate_synthetic.py, then rerun: the manifest lists exactly the
planned images, once each, all readable."""
import os.path as osp
import signal

from generation_fixtures import (assert_exact_manifest, finished_images,
                                 load_tool, make_tiny_pipeline,
                                 one_torch_thread, run_and_signal)

from sau_mm.generation.text2image.plan import compute_plan, write_plan
from sau_mm.generation.text2image.prompts import make_prompts


def test_sigkilled_generation_resumes_to_the_exact_plan(tmp_path, capsys):
    out = str(tmp_path / 'out')
    plan = compute_plan(['cat', 'dog', 'ship'], [60, 10, 0], resolution=32)
    write_plan(out, plan)
    make_prompts(out, plan)
    with one_torch_thread():
        pipe_dir = make_tiny_pipeline(str(tmp_path / 'models'))
    argv = ['generate', '--out-dir', out, '--pipeline-dir', pipe_dir,
            '--steps', '6', '--batch-size', '4', '--device', 'cpu']
    code, _ = run_and_signal(argv, out, signal.SIGKILL, 8)
    assert code == -signal.SIGKILL
    assert not osp.exists(osp.join(out, 'manifest.jsonl'))
    done = len(finished_images(out))
    assert 8 <= done < 110
    with one_torch_thread():
        tool = load_tool('generate_synthetic')
        assert tool.main(argv) == 0
    assert_exact_manifest(out, [0, 50, 60])
    assert f'{done} already done, {110 - done} to generate' in \
        capsys.readouterr().out
