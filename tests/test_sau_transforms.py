import sau_mm  # noqa: F401  (compat fixes before mmpretrain/torchvision)
import numpy as np
import pytest
import torch
from mmpretrain.registry import TRANSFORMS
from PIL import Image, ImageFilter
from torchvision import transforms as T

from sau_mm.datasets.transforms import CIFAR10AutoAugment, Cutout, SimAugment
from sau_mm.datasets.transforms.cifar_autoaugment import CIFAR10_POLICY, OPS


def image(h=32, w=32, seed=0):
    """A textured RGB uint8 image (gradients + noise), no zero pixels."""
    rng = np.random.default_rng(seed)
    yy, xx = np.mgrid[0:h, 0:w]
    img = np.stack([yy * 200 // h, xx * 200 // w, (yy + xx) * 100 // (h + w)],
                   -1) + rng.integers(20, 55, (h, w, 3))
    return img.astype(np.uint8)


def run(transform, img):
    return transform(dict(img=img.copy()))['img']


@pytest.mark.parametrize('cfg', [dict(type='CIFAR10AutoAugment'),
                                 dict(type='SAUCutout'),
                                 dict(type='SimAugment')])
def test_shape_dtype_and_registry(cfg):
    transform = TRANSFORMS.build(cfg)
    img = image()
    out = run(transform, img)
    assert out.shape == img.shape and out.dtype == np.uint8
    assert out.flags.c_contiguous


def expected_cutout(img, cy, cx, length, fill=0):
    """DeVries & Taylor: square of side ``length`` centred at (cy, cx),
    clipped at the borders."""
    out = img.copy()
    h, w = img.shape[:2]
    for y in range(h):
        for x in range(w):
            if cy - length // 2 <= y < cy + length // 2 and \
                    cx - length // 2 <= x < cx + length // 2:
                out[y, x] = fill
    return out


@pytest.mark.parametrize('seed', range(8))
def test_cutout_zeroes_exactly_the_clipped_square(seed):
    img = image(seed=seed)
    np.random.seed(seed)
    cy, cx = np.random.randint(32), np.random.randint(32)
    np.random.seed(seed)
    out = run(Cutout(n_holes=1, length=16), img)
    assert np.array_equal(out, expected_cutout(img, cy, cx, 16))
    assert (out == 0).all(-1).sum() >= 8 * 8  # a clipped box keeps >= 1/4


def test_cutout_clipped_at_border_and_options():
    img = image()
    sizes = set()
    for seed in range(40):
        np.random.seed(seed)
        sizes.add(int((run(Cutout(), img) == 0).all(-1).sum()))
    assert 256 in sizes and min(sizes) < 256  # full and clipped squares
    assert np.array_equal(run(Cutout(n_holes=0), img), img)
    out = run(Cutout(length=64, fill=(1, 2, 3)), img)  # covers everything
    assert (out == np.array([1, 2, 3], np.uint8)).all()


@pytest.mark.parametrize('transform, seed_rng', [
    (CIFAR10AutoAugment(), np.random.seed),  # NumPy's global RNG only
    (SimAugment(), torch.manual_seed),  # torch's global RNG only
])
def test_seeded_reproducible_and_changes_image(transform, seed_rng):
    img = image()
    outs = []
    for seed in range(6):
        torch.manual_seed(seed)
        np.random.seed(seed)
        first = run(transform, img)
        seed_rng(seed)  # only this RNG reseeded: the other has no effect
        assert np.array_equal(run(transform, img), first)
        outs.append(first)
    assert any(not np.array_equal(out, img) for out in outs)
    assert any(not np.array_equal(out, outs[0]) for out in outs[1:])


def test_sim_augment_resizes_to_size():
    results = SimAugment(size=32)(dict(img=image(48, 40)))
    assert results['img'].shape == (32, 32, 3)
    assert results['img_shape'] == (32, 32)


def test_sim_augment_blur_is_pil_gaussian_blur():
    # Crop, flip, blur draw: no jitter, no grayscale; blur always at sigma 2.
    # The blur-off run consumes the same draws before the blur.
    img = image()
    kwargs = dict(jitter_p=0.0, gray_p=0.0, blur_sigma=(2.0, 2.0))
    for seed in range(3):
        torch.manual_seed(seed)
        out = run(SimAugment(blur_p=1.0, **kwargs), img)
        torch.manual_seed(seed)
        plain = Image.fromarray(run(SimAugment(blur_p=0.0, **kwargs), img))
        pil = np.asarray(plain.filter(ImageFilter.GaussianBlur(radius=2.0)))
        assert np.array_equal(out, pil)
        small_kernel = np.asarray(T.GaussianBlur(3, sigma=2.0)(plain))
        assert np.abs(out.astype(int) - small_kernel).mean() > 1.5


def test_sim_augment_blur_draws():
    transform = SimAugment()
    torch.manual_seed(0)
    draws = [transform.blur_params() for _ in range(4000)]
    sigmas = np.array([s for s in draws if s is not None])
    assert abs(len(sigmas) / len(draws) - 0.5) < 0.04  # 5 std
    assert sigmas.min() >= 0.1 and sigmas.max() <= 2.0
    assert sigmas.min() < 0.15 and sigmas.max() > 1.95
    quarters = np.histogram(sigmas, bins=4, range=(0.1, 2.0))[0]
    assert np.abs(quarters / len(sigmas) - 0.25).max() < 0.04  # uniform


GRAY = (128, 128, 128)


def pil(img):
    return Image.fromarray(img)


def apply(name, img, m):
    return np.asarray(CIFAR10AutoAugment().apply(pil(img), name, m))


def test_autoaugment_policy_table():
    assert len(CIFAR10_POLICY) == 25
    for p1, op1, bin1, p2, op2, bin2 in CIFAR10_POLICY:
        assert 0 <= p1 <= 1 and 0 <= p2 <= 1
        assert bin1 in range(10) and bin2 in range(10)
    assert {row[i] for row in CIFAR10_POLICY for i in (1, 4)} == {
        'invert', 'contrast', 'rotate', 'translateX', 'sharpness', 'shearY',
        'translateY', 'autocontrast', 'equalize', 'posterize', 'color',
        'brightness', 'solarize'}
    assert CIFAR10_POLICY[0] == (0.1, 'invert', 7, 0.2, 'contrast', 6)
    assert CIFAR10_POLICY[1] == (0.7, 'rotate', 2, 0.3, 'translateX', 9)
    assert CIFAR10_POLICY[-1] == (0.7, 'translateY', 9, 0.9, 'autocontrast',
                                  1)
    top = {name: OPS[name][1][9] for name in OPS}
    assert top['shearX'] == top['shearY'] == pytest.approx(0.3)
    assert top['translateX'] == pytest.approx(150 / 331)
    assert top['rotate'] == pytest.approx(30)
    for name in ('color', 'contrast', 'sharpness', 'brightness'):
        assert top[name] == pytest.approx(0.9) and OPS[name][1][0] == 0
    assert OPS['posterize'][1] == (8, 8, 7, 7, 6, 6, 5, 5, 4, 4)
    assert OPS['solarize'][1][0] == 256 and top['solarize'] == 0
    # the authors' CIFAR10Policy: a random sign for every op with a
    # direction except rotate (counter-clockwise only)
    assert {name for name in OPS if OPS[name][2]} == {
        'shearX', 'shearY', 'translateX', 'translateY', 'color',
        'contrast', 'sharpness', 'brightness'}


@pytest.mark.parametrize('name, coeffs', [('shearX', (1, 0.3, 0, 0, 1, 0)),
                                          ('shearY', (1, 0, 0, 0.3, 1, 0))])
@pytest.mark.parametrize('sign', [1, -1])
def test_autoaugment_shear_is_bicubic(name, coeffs, sign):
    img = image()
    coeffs = tuple(c * sign if c == 0.3 else c for c in coeffs)
    out = apply(name, img, 0.3 * sign)

    def affine(resample):
        return np.asarray(pil(img).transform(
            (32, 32), Image.Transform.AFFINE, coeffs, resample,
            fillcolor=GRAY))

    assert np.array_equal(out, affine(Image.Resampling.BICUBIC))
    nearest = affine(Image.Resampling.NEAREST)
    assert np.abs(out.astype(int) - nearest).mean() > 1
    corner = (31, 31) if sign > 0 else ((31, 0) if name == 'shearX' else
                                        (0, 31))
    assert tuple(out[corner]) == GRAY  # sheared out of the image


def test_autoaugment_translate_by_fraction_of_side():
    img = image(24, 40)  # H 24, W 40: a quarter is 6 rows / 10 columns
    gray = np.array(GRAY, np.uint8)
    out = apply('translateX', img, 0.25)  # output x reads input x + 10
    assert np.array_equal(out[:, :30], img[:, 10:])
    assert (out[:, 30:] == gray).all()
    out = apply('translateX', img, -0.25)
    assert np.array_equal(out[:, 10:], img[:, :30])
    assert (out[:, :10] == gray).all()
    out = apply('translateY', img, 0.25)
    assert np.array_equal(out[:18], img[6:])
    assert (out[18:] == gray).all()
    out = apply('translateY', img, -0.25)
    assert np.array_equal(out[6:], img[:18])
    assert (out[:6] == gray).all()


@pytest.mark.parametrize('degrees', [30, -30, 20 / 3])
def test_autoaugment_rotate_gray_corners(degrees):
    img = image()
    out = apply('rotate', img, degrees)
    # PIL's own fill (nearest, counter-clockwise) as the reference.
    assert np.array_equal(out, np.asarray(pil(img).rotate(degrees,
                                                          fillcolor=GRAY)))
    for corner in ((0, 0), (0, 31), (31, 0), (31, 31)):
        assert tuple(out[corner]) == GRAY
    assert np.array_equal(out[15:17, 15:17], img[15:17, 15:17])


def test_autoaugment_rotate_positive_is_counter_clockwise():
    """A bright block right of the centre ends up above it after
    rotate(+90): counter-clockwise as seen on screen (rows grow downwards)."""
    img = np.zeros((32, 32, 3), np.uint8)
    img[15:18, 26:29] = 255
    rows, cols = np.nonzero(apply('rotate', img, 90)[..., 0] == 255)
    assert rows.mean() == pytest.approx(16 - (27.5 - 16), abs=1)
    assert cols.mean() == pytest.approx(16, abs=1)


def test_autoaugment_colour_ops():
    img = image()
    a = img.astype(int)
    for threshold in OPS['solarize'][1]:  # v >= threshold -> 255 - v
        assert np.array_equal(apply('solarize', img, threshold),
                              np.where(a < threshold, a, 255 - a))
    assert np.array_equal(apply('solarize', img, 256), img)
    for bits in (4, 5, 6, 7, 8):  # keep the top bits
        shift = 8 - bits
        assert np.array_equal(apply('posterize', img, bits),
                              (a >> shift) << shift)
    assert np.array_equal(apply('invert', img, 0), 255 - a)
    stretched = apply('autocontrast', img, 0)
    assert (stretched.min((0, 1)) == 0).all()
    assert (stretched.max((0, 1)) == 255).all()
    # Enhance factor 1 + m: brightness scales every value.
    assert np.abs(apply('brightness', img, -0.5) - a * 0.5).max() <= 1
    assert np.abs(apply('brightness', img, 0.5) - np.minimum(
        a * 1.5, 255)).max() <= 1
    spread = np.ptp(apply('color', img, -0.9).astype(int), -1)
    assert spread.mean() < 0.2 * np.ptp(a, -1).mean()  # saturation x 0.1


@pytest.mark.parametrize('rotate_random_sign', [False, True])
def test_autoaugment_draws_ops_with_random_signs(monkeypatch,
                                                 rotate_random_sign):
    """Shear, translate and the enhance ops at both signs; rotate
    counter-clockwise only (the authors' CIFAR10Policy), both signs with
    ``rotate_random_sign=True``."""
    seen = []
    for name, (op, magnitudes, signed) in list(OPS.items()):
        def record(img, m, fill, name=name, op=op):
            seen.append((name, m))
            return op(img, m, fill)
        monkeypatch.setitem(OPS, name, (record, magnitudes, signed))
    transform = CIFAR10AutoAugment(rotate_random_sign=rotate_random_sign)
    img = image()
    np.random.seed(0)
    for _ in range(1500):
        run(transform, img)
    used = {row[i] for row in CIFAR10_POLICY for i in (1, 4)}
    assert {name for name, _ in seen} == used
    rotations = [m for name, m in seen if name == 'rotate']
    if rotate_random_sign:
        assert set(rotations) == {20 / 3, -20 / 3}  # bin 2, both signs
        assert 0.3 < np.mean(np.array(rotations) > 0) < 0.7
    else:
        assert set(rotations) == {20 / 3}  # bin 2, counter-clockwise
    signed = {'shearX', 'shearY', 'translateX', 'translateY', 'color',
              'contrast', 'sharpness', 'brightness'}
    for name in used - {'rotate'}:
        values = {m for op, m in seen if op == name}
        if name in signed:
            assert any(m > 0 for m in values) and any(m < 0 for m in values)
        else:
            assert all(m >= 0 for m in values)
    # Row 1 is the only rotation: 1500 / 25 * 0.7 = 42 expected.
    assert 20 < len(rotations) < 70


def test_autoaugment_gray_fill():
    # Geometric ops (rotate/shear/translate) fill the uncovered area with
    # gray 128; on an all-white image any non-255 pixel after a geometric op
    # is 128 (colour ops keep a constant image constant or change all of it).
    img = np.full((32, 32, 3), 255, np.uint8)
    transform = CIFAR10AutoAugment()
    seen_gray = False
    for seed in range(60):
        np.random.seed(seed)
        out = run(transform, img)
        if len(np.unique(out.reshape(-1, 3), axis=0)) > 1:
            seen_gray |= bool((out == 128).all(-1).any())
    assert seen_gray


def test_sau_views_order_of_the_config():
    """SAUViews of the SAU CIFAR config gives, at ``SAUView.V1``, the plain
    crop + flip view (the classification branch's MixUp / CutMix input), at
    V2 crop + flip + AutoAugment + Cutout and at V3 SimAugment (the two
    contrastive views): each equals its transform list run alone with the
    same draws (views drawn in order v1, v2, v3)."""
    import os.path as osp

    from mmengine.config import Config
    from mmengine.registry import init_default_scope

    from sau_mm.datasets.transforms import SAUView
    init_default_scope('mmpretrain')  # SAUViews builds its lists by name
    root = osp.dirname(osp.dirname(osp.abspath(__file__)))
    cfg = Config.fromfile(
        osp.join(root, 'configs/_base_/datasets/sau_cifar_views.py'))
    views = TRANSFORMS.build(cfg.sau_train_pipeline[1])
    assert cfg.sau_train_pipeline[1].type == 'SAUViews'
    img = image()
    for seed in range(4):
        np.random.seed(seed)
        torch.manual_seed(seed)
        out = views(dict(img=img.copy()))['img']
        np.random.seed(seed)
        torch.manual_seed(seed)
        expected = {}
        for view, name in ((SAUView.V1, 'view1'), (SAUView.V2, 'view2'),
                           (SAUView.V3, 'view3')):
            results = dict(img=img.copy())
            for t in cfg[name]:
                results = TRANSFORMS.build(t)(results)
            expected[view] = results['img']
        for view, ref in expected.items():
            assert np.array_equal(out[view], ref), view
    # the transforms behind each position
    assert [t['type'] for t in cfg.view1] == ['RandomCrop', 'RandomFlip']
    assert [t['type'] for t in cfg.view2] == [
        'RandomCrop', 'RandomFlip', 'CIFAR10AutoAugment', 'SAUCutout']
    assert [t['type'] for t in cfg.view3] == ['SimAugment']


def test_device_views_follow_the_sauview_positions():
    """The device path lists its batched views by position: at SAUView.V1
    the crop + flip, at V2 crop + flip + AutoAugment + Cutout, at V3
    SimAugment (the order the classifier reads); the partner gets v1."""
    import os.path as osp

    from mmengine.config import Config
    from mmpretrain.registry import MODELS

    from sau_mm.datasets.transforms import SAUView
    root = osp.dirname(osp.dirname(osp.abspath(__file__)))
    cfg = Config.fromfile(
        osp.join(root, 'configs/sau/resnet32_cifar10lt_device.py'))
    pre = MODELS.build(cfg.data_preprocessor)
    types = [[type(t).__name__ for t in view.transforms]
             for view in pre.views]
    assert types[SAUView.V1] == ['BatchRandomCropFlip']
    assert types[SAUView.V2] == ['BatchRandomCropFlip',
                                 'BatchCIFAR10AutoAugment', 'BatchCutout']
    assert types[SAUView.V3] == ['BatchSimAugment']
    assert [type(t).__name__ for t in pre.partner_view.transforms] == [
        'BatchRandomCropFlip']


@pytest.mark.parametrize('size', [32, 64])
def test_device_and_cpu_recipes_agree(size):
    """One recipe: the SAU views of sau_cifar_views.py sized to S (CPU path)
    and the device ops made from them (and the benchmark's) have the same
    sizes, Cutout length, blur and probabilities: crop S with padding
    S / 8, Cutout S / 2, SimAugment S, blur sigma U(0.1, 2) with p 0.5."""
    import os.path as osp

    from mmengine.config import Config

    from sau_mm.datasets.transforms.sizing import size_pipeline
    from sau_mm.models.utils.batch_views import batch_ops, sau_batch_views
    from sau_mm.models.utils.batch_views.transforms import BatchCompose
    root = osp.dirname(osp.dirname(osp.abspath(__file__)))
    cfg = Config.fromfile(
        osp.join(root, 'configs/_base_/datasets/sau_cifar_views.py'))
    views = [[dict(t) for t in cfg[f'view{k}']] for k in (1, 2, 3)]
    size_pipeline(views, size)
    cpu = [[TRANSFORMS.build(t) for t in view] for view in views]
    benchmark = sau_batch_views(size)
    for k, (view, cpu_view) in enumerate(zip(views, cpu), 1):
        for ops in (BatchCompose(batch_ops(view, size)).transforms,
                    benchmark[f'v{k}'].transforms):
            if k < 3:
                crop, flip = cpu_view[:2]
                assert (ops[0].crop_size, ops[0].padding, ops[0].prob,
                        ops[0].img_size) == (
                    crop.crop_size[0], crop.padding, flip.prob, size) == (
                    size, size // 8, 0.5, size)
            if k == 2:
                aa, cutout = cpu_view[2:]
                assert ops[1].fill == aa.fill == (128, 128, 128)
                assert (ops[2].n_holes, ops[2].length, ops[2].fill,
                        ops[2].img_size) == (cutout.n_holes, cutout.length,
                                             cutout.fill, size) == (
                    1, size // 2, 0, size)
            if k == 3:
                sim, = cpu_view
                crop, _, jitter, gray = sim.augment.transforms
                assert (ops[0].size, ops[0].img_size) == (
                    crop.size[0], size) == (size, size)
                assert ops[0].scale == crop.scale == (0.2, 1.0)
                assert (ops[0].jitter_p, ops[0].gray_p) == (
                    jitter.p, gray.p) == (0.8, 0.2)
                assert (ops[0].blur_sigma, ops[0].blur_p) == (
                    sim.blur_sigma, sim.blur_p) == ((0.1, 2.0), 0.5)


def test_sizing_scales_the_recipes_own_lengths():
    """Sides become S, lengths scale by S / the side before them (floor, at
    least 1), so a Cutout changed in the recipe follows the image size; a
    length with no side before it is an error naming the transform."""
    from sau_mm.datasets.transforms.sizing import size_pipeline
    view = [dict(type='RandomCrop', crop_size=32, padding=4),
            dict(type='RandomFlip', prob=0.5),
            dict(type='SAUCutout', n_holes=1, length=8)]
    size_pipeline(view, 64)
    assert (view[0]['crop_size'], view[0]['padding'], view[2]['length']) == (
        64, 8, 16)
    size_pipeline(view, 64)  # idempotent
    assert (view[0]['padding'], view[2]['length']) == (8, 16)
    size_pipeline(view, 4)
    assert (view[0]['crop_size'], view[0]['padding'], view[2]['length']) == (
        4, 1, 1)
    nested = [dict(type='SAUViews', v1=[dict(type='SimAugment', size=32)],
                   v2=[dict(type='Resize', scale=(32, 32))])]
    size_pipeline(nested, 48)
    assert nested[0]['v1'][0]['size'] == 48
    assert nested[0]['v2'][0]['scale'] == (48, 48)
    with pytest.raises(ValueError, match=r'SAUCutout\(length=16\) comes '
                       'before any crop'):
        size_pipeline([dict(type='SAUCutout', length=16)], 64)


def test_a_transform_without_batch_op_is_named():
    from sau_mm.models.utils.batch_views import batch_ops
    with pytest.raises(ValueError, match="no batch op for the transform "
                       "'ColorJitter'"):
        batch_ops([dict(type='ColorJitter', brightness=0.4)], 32)
    with pytest.raises(ValueError, match="'padding_mode': 'reflect'"):
        batch_ops([dict(type='RandomCrop', crop_size=32, padding=4,
                        padding_mode='reflect')], 32)
    # a crop alone never flips; a flip alone keeps the whole image
    crop, = batch_ops([dict(type='RandomCrop', crop_size=28)], 32)
    flip, = batch_ops([dict(type='RandomFlip', prob=0.5)], 32)
    assert (crop['crop_size'], crop['padding'], crop['prob']) == (28, 0, 0.0)
    assert (flip['crop_size'], flip['padding'], flip['prob']) == (32, 0, 0.5)
