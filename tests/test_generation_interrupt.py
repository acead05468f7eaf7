"""The generate stage interrupted midway in a real subprocess of
tools/generate_synthetic.py, then rerun: the manifest lists exactly the
planned images, once each, all readable. SIGKILL leaves no manifest; SIGTERM
also exits cleanly (status 143, no temp file, a resume hint). The resume runs
in-process through sau_mm.generation.text2image.cli."""
import glob
import os.path as osp
import signal

import pytest

from sau_mm.generation.text2image import cli
from sau_mm.generation.text2image.plan import compute_plan, write_plan
from sau_mm.generation.text2image.prompts import make_prompts

from tests.support.generation import (assert_exact_manifest, finished_images,
                                      one_torch_thread, run_and_signal)


def interrupt_generation(tmp_path, pipe_dir, classes, real_counts, sig):
    """Plan + basic prompts, then `generate` in a subprocess that gets
    ``sig`` once 8 images are done: (out_dir, argv, exit code, output)."""
    out = str(tmp_path / 'out')
    plan = compute_plan(classes, real_counts, resolution=32)
    write_plan(out, plan)
    make_prompts(out, plan)
    argv = ['generate', '--out-dir', out, '--pipeline-dir', pipe_dir,
            '--steps', '6', '--batch-size', '4', '--device', 'cpu']
    code, output = run_and_signal(argv, out, sig, 8)
    assert not osp.exists(osp.join(out, 'manifest.jsonl'))
    return out, argv, code, output


@pytest.mark.slow
def test_sigkilled_generation_resumes_to_the_exact_plan(tiny_sd_pipeline,
                                                        tmp_path, capsys):
    out, argv, code, _ = interrupt_generation(
        tmp_path, tiny_sd_pipeline, ['cat', 'dog', 'ship'], [60, 10, 0], signal.SIGKILL)
    assert code == -signal.SIGKILL
    done = len(finished_images(out))
    assert 8 <= done < 110
    with one_torch_thread():
        assert cli.main(argv) == 0
    assert_exact_manifest(out, [0, 50, 60])
    assert f'{done} already done, {110 - done} to generate' in \
        capsys.readouterr().out


@pytest.mark.slow
def test_sigterm_stops_cleanly_and_resumes(tiny_sd_pipeline, tmp_path):
    out, argv, code, output = interrupt_generation(
        tmp_path, tiny_sd_pipeline, ['cat', 'dog'], [40, 0], signal.SIGTERM)
    assert code == 128 + signal.SIGTERM, output[-3000:]
    assert 'SIGTERM: stopping; rerun the same command to resume' in output
    assert 8 <= len(finished_images(out)) < 40
    assert not glob.glob(osp.join(out, 'images', '*', '*.tmp.*'))
    with one_torch_thread():
        assert cli.main(argv) == 0
    assert_exact_manifest(out, [0, 40])  # also: no temp file left behind
