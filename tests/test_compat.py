"""Each compatibility fix of sau_mm.compat, with the failure it prevents."""
import subprocess
import sys

import numpy as np
import pytest
import torch

from sau_mm import compat


def run_python(code: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, '-c', code], capture_output=True,
                          text=True, timeout=120)


def test_torchvision_imports_after_sau_mm_and_transformers_waits():
    """Fix 1 in a fresh process; there, too, fix 6: importing the runner
    does not import transformers (mmengine alone would)."""
    result = run_python(
        'import sys, sau_mm, torchvision, mmpretrain.datasets, '
        'mmengine.runner; print(torchvision.__version__); '
        'print("transformers" in sys.modules)')
    assert result.returncode == 0, result.stderr
    assert result.stdout.split()[-1] == 'False', result.stdout


@pytest.mark.skipif(compat.torchvision_ops_loadable(),
                    reason='torchvision ops load on this torch build')
def test_torchvision_import_fails_without_the_fix():
    result = run_python('import torchvision')
    assert 'torchvision::nms does not exist' in result.stderr


def test_mmengine_checkpoint_with_numpy_and_history_buffer(tmp_path):
    from mmengine.logging import HistoryBuffer
    from mmengine.runner.checkpoint import _load_checkpoint, save_checkpoint
    path = str(tmp_path / 'ckpt.pth')
    ckpt = dict(state_dict={'w': torch.ones(2)},
                message_hub=dict(log=HistoryBuffer([1.0, 2.0], [1, 1])),
                meta=dict(seed=np.int64(3), best=np.float64(0.5)))
    save_checkpoint(ckpt, path)
    with pytest.raises(Exception, match='[Ww]eights only load failed'):
        torch.load(path)  # what mmengine called before the fix
    loaded = _load_checkpoint(path, map_location='cpu')
    assert loaded['meta']['seed'] == 3
    assert loaded['message_hub']['log'].mean() == 1.5


@pytest.mark.skipif(torch.cuda.is_available(), reason='CPU-only fix')
def test_cuda_set_device_is_a_no_op_on_cpu():
    torch.cuda.set_device(0)  # mmengine's torchrun launcher calls this
    result = run_python('import torch; torch.cuda.set_device(0)')
    assert result.returncode != 0  # unpatched torch fails


def test_adjust_hue_negative_shift_under_numpy2():
    import mmcv
    from PIL import Image
    import torchvision.transforms.functional as TF
    img = np.random.default_rng(0).integers(0, 256, (8, 8, 3), np.uint8)
    for factor in (-0.3, -0.05, 0.2):
        out = mmcv.adjust_hue(img, factor)  # BGR in, BGR out
        ref = np.asarray(TF.adjust_hue(Image.fromarray(img[..., ::-1]),
                                       factor))[..., ::-1]
        np.testing.assert_array_equal(out, ref)
    result = run_python(  # mmcv's own adjust_hue under NumPy 2
        'import numpy as np, mmcv.image.photometric as p; '
        'p.adjust_hue(np.full((4, 4, 3), 9, np.uint8), -0.3, "pillow")')
    assert 'out of bounds' in result.stderr


def test_config_text_is_yapf_formatted_once_per_text(monkeypatch):
    import mmengine.config.config as config_module
    from mmengine.config import Config
    from yapf.yapflib.yapf_api import FormatCode
    calls = []
    original = FormatCode

    def counting(text, **kwargs):
        calls.append(text)
        return original(text, **kwargs)
    # a fresh memo over a counting yapf
    monkeypatch.setattr(config_module, 'FormatCode', counting)
    compat.patch_config_formatting()
    cfg = Config(dict(model=dict(type='ImageClassifier', depth=32),
                      lr=[0.1, 0.01]))
    first = cfg.pretty_text
    assert cfg.pretty_text == first and len(calls) == 1  # memoised
    cfg.merge_from_dict({'lr': [0.2]})
    changed = cfg.pretty_text
    assert changed != first and len(calls) == 2  # a new text is formatted
    monkeypatch.setattr(config_module, 'FormatCode', original)
    assert cfg.pretty_text == changed  # what yapf itself gives


def test_adafactor_is_built_from_transformers_on_first_use():
    from mmpretrain.registry import OPTIMIZERS
    from transformers import Adafactor
    param = torch.nn.Parameter(torch.zeros(3))
    optimizer = OPTIMIZERS.build(dict(type='Adafactor', params=[param],
                                      lr=1e-3, relative_step=False))
    assert type(optimizer) is Adafactor
    assert optimizer.defaults['lr'] == 1e-3


def test_visualizer_builds_its_figure_on_first_use(tmp_path, monkeypatch):
    """Fix 7: creating a visualizer and logging scalars build no matplotlib
    figure; the first drawing builds it and draws what a visualizer built at
    once draws."""
    import matplotlib.figure
    from mmpretrain.structures import DataSample
    from mmpretrain.visualization import UniversalVisualizer
    built = []
    original = matplotlib.figure.Figure.__init__

    def counting(self, *args, **kwargs):
        built.append(1)
        original(self, *args, **kwargs)
    monkeypatch.setattr(matplotlib.figure.Figure, '__init__', counting)
    visualizer = UniversalVisualizer(
        name='fix7', vis_backends=[dict(type='LocalVisBackend')],
        save_dir=str(tmp_path))
    visualizer.add_scalars({'loss': 0.5}, step=1)
    assert built == []  # without the fix: built at creation
    image = np.random.default_rng(0).integers(0, 256, (32, 32, 3), np.uint8)
    sample = DataSample().set_gt_label(1).set_pred_label(2).set_pred_score(
        torch.tensor([0.1, 0.2, 0.7]))
    drawn = visualizer.visualize_cls(image, sample, classes=['a', 'b', 'c'])
    assert len(built) == 1 and visualizer.dpi == visualizer.fig_save.get_dpi()
    at_once = UniversalVisualizer(name='fix7_at_once', image=image)
    assert len(built) == 2  # given an image: built at creation, as before
    np.testing.assert_array_equal(
        drawn, at_once.visualize_cls(image, sample, classes=['a', 'b', 'c']))
