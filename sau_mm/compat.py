"""Make the OpenMMLab stack work on current torch / NumPy (docs/compat.md).

Applied once when ``sau_mm`` is imported, before torchvision is imported. Every
fix is idempotent and only acts when the breakage is present:

1. torchvision on a CPU-only torch: its compiled ops library needs CUDA libs, so
   ``import torchvision`` fails with "operator torchvision::nms does not exist".
   We declare the op schemas it references at import; calling such an op then
   raises torchvision's own "Couldn't load custom C++ ops" error.
2. ``torch.load`` defaults to ``weights_only=True`` and rejects mmengine
   checkpoints (HistoryBuffer, numpy scalars): mmengine's loaders get
   ``weights_only=False`` (only for the checkpoints a user points us at).
3. mmengine's ``torchrun`` launcher calls ``torch.cuda.set_device`` even on a
   CPU machine: it becomes a no-op when CUDA is unavailable.
4. ``mmcv.adjust_hue`` overflows uint8 under NumPy 2 (negative hue shift):
   replaced by a modular shift in int16.
5. Not a breakage but a cost: ``Config.pretty_text`` runs yapf over the whole
   config each time (0.1-0.4 s), and a run asks for it at start-up four times
   and once per checkpoint. yapf's output depends only on its input, so it is
   memoised on (text, style): the same text, formatted once per process.
6. Also a cost: mmengine imports transformers (about 1 s: it indexes its whole
   source tree) only to register transformers' ``Adafactor`` optimizer, in
   every process that imports ``mmengine.runner``. The registration becomes a
   builder that imports transformers when an ``Adafactor`` is built.
7. Also a cost: mmengine's ``Visualizer`` builds a matplotlib figure when it
   is created (importing matplotlib: about 0.6 s of every run's start), while
   a run only logs scalars through it. The figure is built on first use.
"""
import functools
import glob
import importlib
import importlib.util
import os
import sys

import numpy as np
import torch

_TORCHVISION_SCHEMAS = [
    'nms(Tensor dets, Tensor scores, float iou_threshold) -> Tensor',
    'qnms(Tensor dets, Tensor scores, float iou_threshold) -> Tensor',
    'roi_align(Tensor input, Tensor rois, float spatial_scale, '
    'SymInt pooled_height, SymInt pooled_width, int sampling_ratio, '
    'bool aligned) -> Tensor',
    'qroi_align(Tensor input, Tensor rois, float spatial_scale, '
    'SymInt pooled_height, SymInt pooled_width, int sampling_ratio, '
    'bool aligned) -> Tensor',
    '_roi_align_backward(Tensor grad, Tensor rois, float spatial_scale, '
    'SymInt pooled_height, SymInt pooled_width, SymInt batch_size, '
    'SymInt channels, SymInt height, SymInt width, int sampling_ratio, '
    'bool aligned) -> Tensor',
    'ps_roi_align(Tensor input, Tensor rois, float spatial_scale, '
    'SymInt pooled_height, SymInt pooled_width, int sampling_ratio) '
    '-> (Tensor, Tensor)',
    '_ps_roi_align_backward(Tensor grad, Tensor rois, Tensor channel_mapping, '
    'float spatial_scale, SymInt pooled_height, SymInt pooled_width, '
    'int sampling_ratio, SymInt batch_size, SymInt channels, SymInt height, '
    'SymInt width) -> Tensor',
    'roi_pool(Tensor input, Tensor rois, float spatial_scale, '
    'SymInt pooled_height, SymInt pooled_width) -> (Tensor, Tensor)',
    '_roi_pool_backward(Tensor grad, Tensor rois, Tensor argmax, '
    'float spatial_scale, SymInt pooled_height, SymInt pooled_width, '
    'SymInt batch_size, SymInt channels, SymInt height, SymInt width) '
    '-> Tensor',
    'ps_roi_pool(Tensor input, Tensor rois, float spatial_scale, '
    'SymInt pooled_height, SymInt pooled_width) -> (Tensor, Tensor)',
    '_ps_roi_pool_backward(Tensor grad, Tensor rois, Tensor channel_mapping, '
    'float spatial_scale, SymInt pooled_height, SymInt pooled_width, '
    'SymInt batch_size, SymInt channels, SymInt height, SymInt width) '
    '-> Tensor',
    'deform_conv2d(Tensor input, Tensor weight, Tensor offset, Tensor mask, '
    'Tensor bias, SymInt stride_h, SymInt stride_w, SymInt pad_h, '
    'SymInt pad_w, SymInt dilation_h, SymInt dilation_w, SymInt groups, '
    'SymInt offset_groups, bool use_mask) -> Tensor',
    '_deform_conv2d_backward(Tensor grad, Tensor input, Tensor weight, '
    'Tensor offset, Tensor mask, Tensor bias, SymInt stride_h, '
    'SymInt stride_w, SymInt pad_h, SymInt pad_w, SymInt dilation_h, '
    'SymInt dilation_w, SymInt groups, SymInt offset_groups, bool use_mask) '
    '-> (Tensor, Tensor, Tensor, Tensor, Tensor)',
]
_torchvision_library = None  # keeps the schema definitions alive


def torchvision_ops_loadable() -> bool:
    """Whether torchvision's compiled ops library loads with this torch."""
    spec = importlib.util.find_spec('torchvision')
    if spec is None or not spec.submodule_search_locations:
        return True  # nothing to fix
    for path in glob.glob(
            os.path.join(spec.submodule_search_locations[0], '_C*.so')):
        try:
            torch.ops.load_library(path)
            return True
        except (OSError, RuntimeError):
            return False
    return False


def define_torchvision_op_schemas() -> None:
    """Fix 1: declare torchvision's op schemas when its library cannot load."""
    global _torchvision_library
    if _torchvision_library is not None or torchvision_ops_loadable():
        return
    lib = torch.library.Library('torchvision', 'DEF')
    for schema in _TORCHVISION_SCHEMAS:
        lib.define(schema)
    _torchvision_library = lib


def patch_checkpoint_loading() -> None:
    """Fix 2: mmengine's checkpoint loaders use ``weights_only=False``."""
    from mmengine.runner import checkpoint
    if getattr(checkpoint, '_sau_mm_patched', False):
        return
    original_load = torch.load

    @functools.wraps(original_load)
    def load_full(*args, **kwargs):
        kwargs.setdefault('weights_only', False)
        return original_load(*args, **kwargs)

    class _TorchWithFullLoad:
        """``torch`` as seen by mmengine.runner.checkpoint, with full load."""

        def __getattr__(self, name):
            return load_full if name == 'load' else getattr(torch, name)

    checkpoint.torch = _TorchWithFullLoad()
    checkpoint._sau_mm_patched = True


def patch_cuda_set_device() -> None:
    """Fix 3: ``torch.cuda.set_device`` is a no-op without CUDA (CPU torchrun)."""
    if torch.cuda.is_available() or getattr(torch.cuda.set_device,
                                            '_sau_mm_patched', False):
        return

    def set_device(device):  # noqa: ARG001 - CPU run, nothing to select
        return None

    set_device._sau_mm_patched = True
    torch.cuda.set_device = set_device


def adjust_hue(img: np.ndarray, hue_factor: float, backend=None) -> np.ndarray:
    """Shift the HSV hue of a BGR uint8 image by ``hue_factor`` of a turn.

    Same contract as ``mmcv.adjust_hue`` (pillow semantics), without the
    uint8 overflow NumPy 2 raises for negative shifts.
    """
    from PIL import Image
    if not -0.5 <= hue_factor <= 0.5:
        raise ValueError(f'hue_factor {hue_factor} is not in [-0.5, 0.5].')
    pil = Image.fromarray(np.ascontiguousarray(img[..., ::-1]), mode='RGB')
    h, s, v = pil.convert('HSV').split()
    shift = int(hue_factor * 255)  # truncation, as mmcv and torchvision do
    h_arr = ((np.asarray(h, dtype=np.int16) + shift) % 256).astype(np.uint8)
    hsv = Image.merge('HSV', (Image.fromarray(h_arr, 'L'), s, v))
    return np.asarray(hsv.convert('RGB'))[..., ::-1].copy()


def patch_adjust_hue() -> None:
    """Fix 4: mmcv's ``adjust_hue`` under NumPy 2."""
    import mmcv
    import mmcv.image
    import mmcv.image.photometric
    for module in (mmcv, mmcv.image, mmcv.image.photometric):
        module.adjust_hue = adjust_hue


def patch_config_formatting() -> None:
    """Fix 5: mmengine's yapf call memoised (exact: a pure function)."""
    import mmengine.config.config as config_module
    format_code = config_module.FormatCode
    if getattr(format_code, 'memoised', False):
        return
    formatted = {}

    @functools.wraps(format_code)
    def memoised(text, style_config=None, **kwargs):
        key = (text, repr(style_config), repr(sorted(kwargs.items())))
        if key not in formatted:
            formatted[key] = format_code(text, style_config=style_config,
                                         **kwargs)
        return formatted[key]
    memoised.memoised = True
    config_module.FormatCode = memoised


def defer_transformers_import() -> None:
    """Fix 6: mmengine's optimizer registry imported with transformers
    hidden, and ``Adafactor`` registered as a builder that imports it. Acts
    only when neither is imported yet (else the cost is already paid)."""
    if ('mmengine.optim.optimizer.builder' in sys.modules
            or 'transformers' in sys.modules):
        return
    sys.modules['transformers'] = None  # `from transformers import` fails
    try:
        importlib.import_module('mmengine.optim.optimizer.builder')
    finally:
        del sys.modules['transformers']
    if importlib.util.find_spec('transformers') is None:
        return  # mmengine would not have registered it either
    from mmengine.registry import OPTIMIZERS

    def Adafactor(*args, **kwargs):  # noqa: N802 - the registered name
        """transformers.Adafactor(*args, **kwargs), imported on first use."""
        from transformers import Adafactor as adafactor
        return adafactor(*args, **kwargs)
    OPTIMIZERS.register_module(name='Adafactor', module=Adafactor)


class _FigureNotBuilt:
    """What ``Visualizer.__init__`` holds until the figure is built: it only
    asks for the figure's dpi."""

    def get_dpi(self):
        return None


_FIGURE_PARTS = ('fig_save_canvas', 'fig_save', 'ax_save', 'dpi')


def defer_visualizer_figure() -> None:
    """Fix 7: ``Visualizer``'s saving figure (``fig_save_canvas``,
    ``fig_save``, ``ax_save``, ``dpi``) built by mmengine's own
    ``_initialize_fig`` on the first read of any of them. A visualizer given
    an image at creation draws it at once: built at once, as before."""
    from mmengine.visualization import Visualizer
    if getattr(Visualizer, 'figure_deferred', False):
        return
    init, build = Visualizer.__init__, Visualizer._initialize_fig

    # `name` named: mmengine's ManagerMeta checks that the __init__ of every
    # Visualizer class has it
    @functools.wraps(init)
    def deferred_init(self, name='visualizer', image=None, *args, **kwargs):
        vars(self)['_figure_state'] = 'creating' if image is None else 'built'
        init(self, name, image, *args, **kwargs)
        if vars(self)['_figure_state'] == 'creating':
            vars(self)['_figure_state'] = 'pending'

    def initialize_fig(self, fig_cfg):
        if vars(self).get('_figure_state') == 'creating':
            return None, _FigureNotBuilt(), None
        return build(self, fig_cfg)

    def part(name):
        def get(self):
            if vars(self).get('_figure_state') == 'pending':
                canvas, fig, ax = build(self, self.fig_save_cfg)
                vars(self).update(_figure_state='built', fig_save_canvas=canvas,
                                  fig_save=fig, ax_save=ax, dpi=fig.get_dpi())
            return vars(self)[name]

        def set(self, value):
            vars(self)[name] = value
        return property(get, set)

    Visualizer.__init__ = deferred_init
    Visualizer._initialize_fig = initialize_fig
    for name in _FIGURE_PARTS:
        setattr(Visualizer, name, part(name))
    Visualizer.figure_deferred = True


def apply() -> None:
    """Apply every fix (idempotent)."""
    defer_transformers_import()  # first: before anything imports mmengine.optim
    define_torchvision_op_schemas()
    patch_checkpoint_loading()
    patch_cuda_set_device()
    patch_adjust_hue()
    patch_config_formatting()
    defer_visualizer_figure()
