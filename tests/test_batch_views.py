"""The batched device views (sau_mm.models.utils.batch_views) against the CPU
transforms of SAU's views (docs/method.md#views-and-normalisation).

1. Fixed parameters: every op, and every whole view with the draws the CPU
   pipeline made (replayed from the same seed), equals the PIL/torchvision
   output exactly (tolerance 0 on uint8: the ops copy PIL's arithmetic).
2. Distributions: over many draws, probabilities, ranges, offsets and
   sub-policy / permutation frequencies match the CPU path's (nominal values
   within 5 binomial standard errors; torchvision's crop sampler by a
   two-sample Kolmogorov-Smirnov test at alpha ~ 1e-3).
3. Pixel statistics: per-channel mean and std of each whole view over 500
   generated CIFAR-like images (6 draws each) match the CPU view's within
   VIEW_STAT_TOL levels (0..255): about 3.5 standard deviations of the
   CPU-minus-batched difference, whose sd over 20 seeds at this size was
   0.16 (v1), 0.99 (v2), 0.98 (v3) levels, largest of the 6 statistics; the
   20-seed averages agreed within 0.02 / 0.19 / 0.18.
"""
import os.path as osp

import sau_mm  # noqa: F401  (compat fixes before mmpretrain/torchvision)
import numpy as np
import pytest
import torch
from mmengine.config import Config
from mmpretrain.registry import BATCH_AUGMENTS, TRANSFORMS
from PIL import Image
from torchvision import transforms as T
from torchvision.transforms import InterpolationMode
from torchvision.transforms import functional as TF

from sau_mm.datasets.transforms.cifar_autoaugment import (CIFAR10_POLICY,
                                                          OPS,
                                                          CIFAR10AutoAugment)
from sau_mm.datasets.transforms.sim_augment import SimAugment, gaussian_blur
from sau_mm.models.utils.batch_views import (AA_OPS, BatchCIFAR10AutoAugment,
                                             BatchCompose, BatchCutout,
                                             BatchRandomCropFlip,
                                             BatchSimAugment)
from sau_mm.models.utils.batch_views import functional as F
from sau_mm.models.utils.batch_views import sau_batch_views

from tests.support.data import class_images

ROOT = osp.dirname(osp.dirname(osp.abspath(__file__)))
VIEWS = Config.fromfile(
    osp.join(ROOT, 'configs', '_base_', 'datasets', 'sau_cifar_views.py'))
FILL = (128, 128, 128)
# per view: max |CPU - batched| of the per-channel pixel mean and std
VIEW_STAT_TOL = dict(v1=0.6, v2=3.5, v3=3.5)


def make_images(seed=0):
    """64 CIFAR-like 32x32 uint8 images (N, H, W, 3): class patterns,
    uniform noise, low contrast, flat and two-level images."""
    rng = np.random.default_rng(seed)
    parts = [class_images(c, 4, rng) for c in range(10)]
    parts.append(rng.integers(0, 256, (10, 32, 32, 3)))
    parts.append(rng.integers(0, 256, (8, 32, 32, 3)) // 6 + 90)
    flat = np.full((3, 32, 32, 3), 77)
    flat[1] = (0, 128, 255)
    flat[2, :, 16:] = 200
    parts.append(flat)
    parts.append(np.where(rng.random((3, 32, 32, 1)) < 0.5, 30, 220)
                 * np.ones(3))
    return np.concatenate(parts).astype(np.uint8)


IMGS = make_images()


@pytest.fixture(autouse=True, scope='module')
def one_thread():
    """The batch ops are many small tensor ops: on a shared 2-core machine
    intra-op threads only contend (10x slower measured); use one."""
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


def tensor(imgs):
    return torch.from_numpy(np.ascontiguousarray(imgs)).permute(0, 3, 1,
                                                                2).contiguous()


def numpy(t):
    return t.permute(0, 2, 3, 1).numpy()


def pil_stack(fn, imgs, *per_image):
    return np.stack([
        np.asarray(fn(Image.fromarray(img), *args), dtype=np.uint8)
        for img, *args in zip(imgs, *per_image)
    ])


def assert_equal_images(ours, ref):
    diff = np.abs(numpy(ours).astype(int) - ref.astype(int))
    assert diff.max() == 0, (diff.max(), (diff > 0).mean())


# ---------------------------------------------------------------- 1. ops ---
@pytest.mark.parametrize('name', list(OPS))
def test_autoaugment_op_equals_pil(name):
    """Each of the 14 ops at every bin, both signs, vs the CPU op."""
    fn, bins, signed = OPS[name]
    n = len(IMGS)
    mags = np.array([bins[i % 10] * (-1 if signed and (i // 10) % 2 else 1)
                     for i in range(n)])
    if name == 'posterize':
        args = [int(m) for m in mags]
    else:
        args = [float(m) for m in mags]
    ref = np.stack([np.asarray(fn(Image.fromarray(img), m, FILL))
                    for img, m in zip(IMGS, args)])
    ours = AA_OPS[name](tensor(IMGS), torch.tensor(mags, dtype=torch.float64),
                        FILL)
    assert_equal_images(ours, ref)


@pytest.mark.parametrize('angle', [0, 90, 180, 270, -90, 45, 3.3, -200])
def test_rotate_any_angle_equals_pil(angle):
    ref = pil_stack(OPS['rotate'][0], IMGS[:16], [angle] * 16, [FILL] * 16)
    assert_equal_images(F.rotate_nearest(tensor(IMGS[:16]), [angle] * 16,
                                         FILL), ref)


@pytest.mark.parametrize('rotate_random_sign', [False, True])
def test_autoaugment_rotates_counter_clockwise_by_default(rotate_random_sign):
    """Rotate at bin 9 (30 degrees) on every sample: +30 (counter-clockwise,
    PIL ``rotate(30)``) for all by default, as the CPU op; both signs with
    ``rotate_random_sign=True``; each image equals the CPU op at its sign."""
    aa = BatchCIFAR10AutoAugment(policy=((1.0, 'rotate', 9, 0.0, 'invert', 0),),
                                 rotate_random_sign=rotate_random_sign)
    params = aa.draw_params(len(IMGS), torch.Generator().manual_seed(0))
    assert params['apply'][:, 0].all()
    angles = aa.magnitudes(params)[:, 0].tolist()
    assert set(angles) == ({30.0, -30.0} if rotate_random_sign else {30.0})
    ref = pil_stack(OPS['rotate'][0], IMGS, angles, [FILL] * len(IMGS))
    assert_equal_images(aa.apply(tensor(IMGS), params), ref)


def test_general_affine_bicubic_equals_pil():
    rng = np.random.default_rng(1)
    mats = np.concatenate([np.eye(2) + rng.uniform(-.3, .3, (16, 2, 2)),
                           rng.uniform(-4, 4, (16, 2, 1))], 2).reshape(16, 6)
    ref = np.stack([np.asarray(Image.fromarray(img).transform(
        (32, 32), Image.Transform.AFFINE, tuple(m),
        Image.Resampling.BICUBIC, fillcolor=FILL))
        for img, m in zip(IMGS[:16], mats)])
    assert_equal_images(F.affine_bicubic(tensor(IMGS[:16]), mats, FILL), ref)


@pytest.mark.parametrize('name,lo,hi', [('brightness', 0.6, 1.4),
                                        ('contrast', 0.6, 1.4),
                                        ('saturation', 0.6, 1.4),
                                        ('hue', -0.1, 0.1),
                                        ('hue', -0.5, 0.5),
                                        ('brightness', 0.0, 3.0)])
def test_colour_jitter_op_equals_torchvision(name, lo, hi):
    """ColorJitter's four adjustments on PIL images (torchvision -> PIL
    ImageEnhance / uint8 HSV) for factors across the range."""
    n = len(IMGS)
    factors = torch.linspace(lo, hi, n)[torch.randperm(
        n, generator=torch.Generator().manual_seed(0))]
    tv = dict(brightness=TF.adjust_brightness, contrast=TF.adjust_contrast,
              saturation=TF.adjust_saturation, hue=TF.adjust_hue)[name]
    ours = dict(brightness=F.brightness, contrast=F.contrast,
                saturation=F.color, hue=F.adjust_hue)[name]
    ref = pil_stack(tv, IMGS, factors.tolist())
    assert_equal_images(ours(tensor(IMGS), factors), ref)


def test_grayscale_equals_torchvision():
    ref = pil_stack(lambda im: TF.rgb_to_grayscale(im, 3), IMGS)
    assert_equal_images(F.grayscale(tensor(IMGS)), ref)


def test_resized_crop_equals_torchvision():
    """RandomResizedCrop's crop + PIL antialiased bilinear resize."""
    torch.manual_seed(0)
    box = [T.RandomResizedCrop.get_params(Image.fromarray(IMGS[0]),
                                          (0.2, 1.0), (3 / 4, 4 / 3))
           for _ in range(len(IMGS) - 4)]
    box += [(0, 0, 32, 32), (31, 31, 1, 1), (0, 5, 32, 20), (7, 0, 9, 32)]
    box = torch.tensor(box)
    ref = pil_stack(lambda im, b: TF.resized_crop(
        im, *b, [32, 32], InterpolationMode.BILINEAR, antialias=True), IMGS,
        box.tolist())
    ours = F.resized_crop_bilinear(tensor(IMGS), *box.T, (32, 32))
    assert_equal_images(ours, ref)


def test_blur_equals_pil_gaussian_blur():
    """PIL GaussianBlur(radius=sigma): our box passes equal PIL's, sigma in
    the view's range [0.1, 2] and beyond."""
    n = len(IMGS)
    sigma = torch.cat([torch.linspace(0.1, 2.0, n - 8),
                       torch.tensor([0.05, 2.5, 3.0, 4.0, 5.5, 7.0, 0.1,
                                     2.0])]).float()
    ref = pil_stack(gaussian_blur, IMGS, sigma.tolist())
    assert_equal_images(F.gaussian_blur_pil(tensor(IMGS), sigma), ref)


def test_single_sample_batches_match():
    """One-element batches take the same arithmetic (no scalar shortcuts)."""
    for i in (0, 45, 60):
        img = IMGS[i:i + 1]
        ref = pil_stack(OPS['contrast'][0], img, [0.7], [FILL])
        assert_equal_images(F.contrast(tensor(img), [1.7]), ref)
        ref = pil_stack(TF.adjust_hue, img, [0.07])
        assert_equal_images(F.adjust_hue(tensor(img), [0.07]), ref)
        ref = pil_stack(gaussian_blur, img, [1.3])
        assert_equal_images(F.gaussian_blur_pil(tensor(img), [1.3]), ref)


# ------------------------------------------- 1b. whole views, replayed ---
def cpu_view(name):
    return [TRANSFORMS.build(cfg) for cfg in VIEWS[name]]


def run_cpu(transforms, img):
    results = dict(img=img.copy())
    for t in transforms:
        results = t(results)
    return results['img']


def replay_crop_flip():
    """The draws of MMPretrain RandomCrop(32, padding=4) + mmcv RandomFlip
    (0.5, horizontal), in their order on NumPy's global RNG."""
    top, left = np.random.randint(0, 9), np.random.randint(0, 9)
    flip = np.random.choice(['horizontal', None], p=[0.5, 0.5])
    return dict(top=top, left=left, flip=flip == 'horizontal')


def replay_autoaugment():
    """CIFAR10AutoAugment.transform's draws."""
    policy = np.random.randint(len(CIFAR10_POLICY))
    p1, op1, _, p2, op2, _ = CIFAR10_POLICY[policy]
    apply, sign = [], []
    for p, op in ((p1, op1), (p2, op2)):
        apply.append(np.random.rand() < p)
        sign.append(int(np.random.choice((-1, 1)))
                    if apply[-1] and OPS[op][2] else 1)
    return dict(policy=policy, apply=apply, sign=sign)


def replay_cutout():
    return dict(cy=[np.random.randint(32)], cx=[np.random.randint(32)])


def stack_params(dicts, dtypes):
    return {k: torch.tensor([d[k] for d in dicts], dtype=dtype)
            for k, dtype in dtypes.items()}


CROP_DT = dict(top=torch.long, left=torch.long, flip=torch.bool)
AA_DT = dict(policy=torch.long, apply=torch.bool, sign=torch.int8)
CUT_DT = dict(cy=torch.long, cx=torch.long)


def test_view1_and_view2_equal_cpu_pipeline():
    """The config's view1/view2 pipelines (RandomCrop, RandomFlip,
    CIFAR10AutoAugment, SAUCutout) with NumPy seeded per image, and our
    views with the same draws (replayed), give identical images."""
    views = sau_batch_views()
    for name, key in (('view1', 'v1'), ('view2', 'v2')):
        transforms = cpu_view(name)
        ref, params = [], []
        for i, img in enumerate(IMGS):
            np.random.seed(1000 + i)
            ref.append(run_cpu(transforms, img))
            np.random.seed(1000 + i)
            draws = [replay_crop_flip()]
            if key == 'v2':
                draws += [replay_autoaugment(), replay_cutout()]
            params.append(draws)
        dts = [CROP_DT, AA_DT, CUT_DT][:len(params[0])]
        batch_params = [stack_params([p[k] for p in params], dt)
                        for k, dt in enumerate(dts)]
        ours = views[key].apply(tensor(IMGS), batch_params)
        assert_equal_images(ours, np.stack(ref))


def replay_simaugment(img, cfg=SimAugment()):
    """SimAugment.transform's draws, in their order on torch's global RNG:
    RandomResizedCrop, flip, RandomApply, ColorJitter, grayscale, blur."""
    top, left, height, width = T.RandomResizedCrop.get_params(
        Image.fromarray(img), (0.2, 1.0), (3 / 4, 4 / 3))
    flip = bool(torch.rand(1) < 0.5)
    jitter = not bool(0.8 < torch.rand(1))
    order, factors = list(range(4)), [1.0, 1.0, 1.0, 0.0]
    if jitter:
        fn_idx, *factors = T.ColorJitter.get_params((0.6, 1.4), (0.6, 1.4),
                                                    (0.6, 1.4), (-0.1, 0.1))
        order = fn_idx.tolist()
    gray = bool(torch.rand(1) < 0.2)
    sigma = cfg.blur_params()
    return dict(top=top, left=left, height=height, width=width, flip=flip,
                jitter=jitter, order=order, factors=factors, gray=gray,
                blur=sigma is not None, sigma=sigma or 1.0)


SIM_DT = dict(top=torch.long, left=torch.long, height=torch.long,
              width=torch.long, flip=torch.bool, jitter=torch.bool,
              order=torch.long, factors=torch.float32, gray=torch.bool,
              blur=torch.bool, sigma=torch.float32)


def test_view3_equals_simaugment():
    transform = TRANSFORMS.build(dict(type='SimAugment', size=32))
    ref, params = [], []
    for i, img in enumerate(IMGS):
        torch.manual_seed(2000 + i)
        ref.append(run_cpu([transform], img))
        torch.manual_seed(2000 + i)
        params.append(replay_simaugment(img))
    assert sum(p['jitter'] for p in params) > 30
    assert 5 < sum(p['blur'] for p in params) < 60
    ours = sau_batch_views()['v3'].apply(tensor(IMGS),
                                         [stack_params(params, SIM_DT)])
    assert_equal_images(ours, np.stack(ref))


def test_float_input_gives_same_levels_in_float():
    g = torch.Generator().manual_seed(3)
    view = sau_batch_views()['v2']
    params = view.draw_params(len(IMGS), g)
    u8 = view.apply(tensor(IMGS), params)
    f32 = view.apply(tensor(IMGS).float(), params)
    assert u8.dtype == torch.uint8 and f32.dtype == torch.float32
    assert torch.equal(f32, u8.float())


def test_seeded_generator_is_reproducible_and_registry_builds():
    for name in ('v1', 'v2', 'v3'):
        view = sau_batch_views()[name]
        a = view(tensor(IMGS), torch.Generator().manual_seed(7))
        b = view(tensor(IMGS), torch.Generator().manual_seed(7))
        c = view(tensor(IMGS), torch.Generator().manual_seed(8))
        assert torch.equal(a, b) and not torch.equal(a, c)
    g = torch.Generator().manual_seed(0)
    state = g.get_state()
    first = BatchSimAugment().draw_params(16, g)
    g.set_state(state)
    again = BatchSimAugment().draw_params(16, g)
    assert all(torch.equal(first[k], again[k]) for k in first)
    built = BATCH_AUGMENTS.build(dict(type='BatchCompose', transforms=[
        dict(type='BatchRandomCropFlip'), dict(type='BatchCIFAR10AutoAugment'),
        dict(type='BatchCutout')]))
    assert isinstance(built, BatchCompose)
    assert built(tensor(IMGS[:4]), g).shape == (4, 3, 32, 32)


def to_device(params, device):
    if isinstance(params, list):
        return [to_device(p, device) for p in params]
    return {k: v.to(device) for k, v in params.items()}


@pytest.mark.skipif(not torch.cuda.is_available(), reason='needs CUDA')
def test_cuda_equals_cpu():
    """Same parameters, same bits on CUDA as on CPU (so as PIL); draws
    from a CUDA generator stay on the device."""
    images = tensor(np.concatenate([IMGS] * 8))
    for key, view in sau_batch_views().items():
        params = view.draw_params(len(images),
                                  torch.Generator().manual_seed(5))
        cpu = view.apply(images, params)
        cuda = view.apply(images.cuda(), to_device(params, 'cuda'))
        assert torch.equal(cuda.cpu(), cpu), key
        g = torch.Generator(device='cuda').manual_seed(5)
        out = view(images.cuda(), g)
        assert out.is_cuda and out.shape == images.shape


# -------------------------------------------------------- 2. distributions ---
N_DRAWS = 200_000


def assert_rate(hits, n, p, k=5.0):
    """Empirical rate within k binomial standard errors of p."""
    se = max(np.sqrt(p * (1 - p) / n), 1.0 / n)
    rate = float(hits) / n
    assert abs(rate - p) <= k * se, (rate, p, se)


def assert_uniform_ints(values, high):
    counts = torch.bincount(values.flatten(), minlength=high)
    assert len(counts) == high
    for c in counts.tolist():
        assert_rate(c, values.numel(), 1.0 / high)


def ks_two_sample(a, b):
    """Two-sample Kolmogorov-Smirnov statistic and the alpha ~ 1e-3
    critical value 1.95 * sqrt(1/n + 1/m)."""
    a, b = np.sort(np.asarray(a, float)), np.sort(np.asarray(b, float))
    grid = np.union1d(a, b)
    cdf_a = np.searchsorted(a, grid, side='right') / len(a)
    cdf_b = np.searchsorted(b, grid, side='right') / len(b)
    return np.abs(cdf_a - cdf_b).max(), 1.95 * np.sqrt(1 / len(a) +
                                                        1 / len(b))


def ks_uniform(x, lo, hi):
    x = np.sort(np.asarray(x, float))
    cdf = (x - lo) / (hi - lo)
    n = len(x)
    d = max((np.arange(1, n + 1) / n - cdf).max(),
            (cdf - np.arange(n) / n).max())
    return d, 1.95 / np.sqrt(n)


def test_crop_flip_and_cutout_distributions():
    g = torch.Generator().manual_seed(0)
    p = BatchRandomCropFlip().draw_params(N_DRAWS, g)
    assert_uniform_ints(p['top'], 9)
    assert_uniform_ints(p['left'], 9)
    assert_rate(p['flip'].sum(), N_DRAWS, 0.5)
    p = BatchCutout().draw_params(N_DRAWS, g)
    assert p['cy'].shape == (N_DRAWS, 1)
    assert_uniform_ints(p['cy'], 32)
    assert_uniform_ints(p['cx'], 32)


def cpu_autoaugment_ops(n, seed=0):
    """(op, signed magnitude) of every op the CPU CIFAR10AutoAugment
    applies to n images (its apply() recorded, images left unchanged)."""
    record = []
    transform = CIFAR10AutoAugment()
    transform.apply = lambda img, name, m: record.append((name, m)) or img
    np.random.seed(seed)
    img = np.zeros((2, 2, 3), np.uint8)
    for _ in range(n):
        transform.transform(dict(img=img))
    return record


def test_autoaugment_distributions_match_cpu():
    g = torch.Generator().manual_seed(0)
    aa = BatchCIFAR10AutoAugment()
    p = aa.draw_params(N_DRAWS, g)
    assert_uniform_ints(p['policy'], len(CIFAR10_POLICY))
    for k, sub in enumerate(CIFAR10_POLICY):
        rows = p['policy'] == k
        for slot, prob in enumerate((sub[0], sub[3])):
            assert_rate(p['apply'][rows, slot].sum(), int(rows.sum()), prob)
    assert_rate((p['sign'] == 1).sum(), p['sign'].numel(), 0.5)
    assert set(p['sign'].unique().tolist()) == {-1, 1}
    # frequencies of each (op, signed magnitude) per image, ours vs CPU
    mags = aa.magnitudes(p)
    ours = {}
    for slot in range(2):
        names = [CIFAR10_POLICY[k][1 + 3 * slot] for k in p['policy']]
        for name, m, a in zip(names, mags[:, slot].tolist(),
                              p['apply'][:, slot].tolist()):
            if a:
                key = (name, round(m, 9))
                ours[key] = ours.get(key, 0) + 1
    n_cpu = 20_000
    cpu = {}
    for name, m in cpu_autoaugment_ops(n_cpu):
        key = (name, round(float(m), 9))
        cpu[key] = cpu.get(key, 0) + 1
    assert set(cpu) <= set(ours)
    for key in ours:
        p_ours = ours[key] / N_DRAWS
        assert_rate(cpu.get(key, 0), n_cpu, p_ours, k=5.5)


def test_simaugment_distributions_match_cpu():
    g = torch.Generator().manual_seed(0)
    sim = BatchSimAugment()
    p = sim.draw_params(N_DRAWS, g)
    n_cpu = 10_000
    torch.manual_seed(0)
    cpu = [replay_simaugment(IMGS[0]) for _ in range(n_cpu)]
    # crop: torchvision's sampler vs ours (two-sample KS on each statistic)
    ours_hw = {k: p[k].numpy() for k in ('top', 'left', 'height', 'width')}
    cpu_hw = {k: np.array([c[k] for c in cpu]) for k in ours_hw}
    stats = dict(ours_hw, area=ours_hw['height'] * ours_hw['width'],
                 ratio=ours_hw['width'] / ours_hw['height'])
    cpu_stats = dict(cpu_hw, area=cpu_hw['height'] * cpu_hw['width'],
                     ratio=cpu_hw['width'] / cpu_hw['height'])
    for k in stats:
        d, crit = ks_two_sample(stats[k], cpu_stats[k])
        assert d < crit, (k, d, crit)
    assert (p['top'] + p['height'] <= 32).all()
    assert (p['left'] + p['width'] <= 32).all()
    # probabilities (nominal, and the CPU replay within its own error)
    for key, prob in (('flip', 0.5), ('jitter', 0.8), ('gray', 0.2),
                      ('blur', 0.5)):
        assert_rate(p[key].sum(), N_DRAWS, prob)
        assert_rate(sum(c[key] for c in cpu), n_cpu, prob)
    # ColorJitter order: a uniform permutation (24 equally likely)
    perms = (p["order"] * torch.tensor([64, 16, 4, 1])).sum(1)
    assert len(perms.unique()) == 24
    assert (p['order'].sort(1).values == torch.arange(4)).all()
    counts = torch.bincount(perms, minlength=256)
    for c in counts[counts > 0].tolist():
        assert_rate(c, N_DRAWS, 1 / 24)
    # factors uniform in [0.6, 1.4] x 3 and [-0.1, 0.1]; sigma in [0.1, 2]
    for col, (lo, hi) in enumerate([(0.6, 1.4)] * 3 + [(-0.1, 0.1)]):
        x = p['factors'][:, col].numpy()
        assert lo <= x.min() and x.max() <= hi
        d, crit = ks_uniform(x, lo, hi)
        assert d < crit, (col, d)
        cpu_x = [c['factors'][col] for c in cpu if c['jitter']]
        d, crit = ks_two_sample(x[:50_000], cpu_x)
        assert d < crit, (col, d)
    d, crit = ks_uniform(p['sigma'].numpy(), 0.1, 2.0)
    assert d < crit
    assert 0.1 <= p['sigma'].min() and p['sigma'].max() <= 2.0


# ------------------------------------------------ 3. view pixel statistics ---
def pixel_stats(imgs):
    x = np.asarray(imgs, np.float64).reshape(-1, 3)
    return np.concatenate([x.mean(0), x.std(0)])


@pytest.mark.parametrize('name,key', [('view1', 'v1'), ('view2', 'v2'),
                                      ('view3', 'v3')])
def test_view_pixel_statistics_match_cpu(name, key):
    """Per-channel mean/std of a whole view over 500 CIFAR-like images,
    each augmented 6 times: CPU pipeline (config) vs batched view."""
    rng = np.random.default_rng(0)
    imgs = np.concatenate([class_images(c, 50, rng) for c in range(10)])
    imgs = np.concatenate([imgs] * 6)
    transforms = cpu_view(name)
    np.random.seed(0)
    torch.manual_seed(0)
    cpu = pixel_stats([run_cpu(transforms, img) for img in imgs])
    ours = pixel_stats(numpy(sau_batch_views()[key](
        tensor(imgs), torch.Generator().manual_seed(0))))
    diff = np.abs(cpu - ours)
    assert diff.max() <= VIEW_STAT_TOL[key], (cpu.round(2), ours.round(2))
