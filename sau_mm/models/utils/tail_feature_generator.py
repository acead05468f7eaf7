"""CalibratedTailFeatures: GLAG stage 2's tail-class feature generator
(docs/method.md#stage-2-calibrated-tail-features-our-choice).

GLAG's code and full text are not public; the statistics, calibration and
balancing rule below are this project's documented choices (calibration
after Distribution Calibration, Yang et al. ICLR 2021), not
GLAG's published ones."""
from typing import Iterable, Sequence, Tuple, Union

import torch
import torch.nn as nn
from mmengine.dist import all_reduce

from ..losses.utils import check_class_counts, class_counts_missing

# Scatter matrices summed (and all-reduced) per block: at most this many
# float64 values, so 2048-d features (ResNet-50) go a few classes at a time.
_BLOCK_VALUES = 2**24


def psd_factor(cov: torch.Tensor) -> torch.Tensor:
    """F with F F^T = cov: the Cholesky factor, or V diag(sqrt(e)) from the
    eigendecomposition when cov is only positive semi-definite (b = 0)."""
    factor, info = torch.linalg.cholesky_ex(cov)
    if int(info) == 0:
        return factor
    eigval, eigvec = torch.linalg.eigh(cov)
    return eigvec * eigval.clamp_min(0).sqrt()


class CalibratedTailFeatures(nn.Module):
    r"""Calibrated Gaussians of the tail classes and the features drawn from
    them.

    Statistics (:meth:`compute`, once at stage start), over the pooled
    features x of the REAL training images; every rank passes its share and
    the counts, sums and scatter matrices are all-reduced, so every rank
    holds the same Gaussians:

        n_c, mu_c = mean_{y_i = c} x_i,
        S_c = sum_{y_i = c} (x_i - mu_c)(x_i - mu_c)^T / (n_c - 1)  (np.cov).

    Tail classes: n_c < threshold; head classes: n_c > threshold;
    threshold = the median real count (``tail_threshold='median'``, np.median
    of the counts) or a given number. For a tail class c, H = its k nearest
    head classes by ||mu_c - mu_h||_2 (ties: lower class index; k is capped
    at the number of head classes):

        mu'_c = (mu_c + sum_{h in H} mu_h) / (k + 1),
        S'_c  = mean_{h in H} S_h + b I.

    Balancing rule (:meth:`expected_per_batch`, :meth:`num_to_generate`):
    with n_c the TRAINING counts (real + synthetic; ``set_class_counts``,
    called by ``ClassCountsHook``), N = sum_c n_c and a batch of B samples
    drawn uniformly from the training set, class c expects B n_c / N
    samples. Each tail class gets

        e_c = B (n_max - n_c) / N

    generated features in expectation, bringing it to the largest class's
    share B n_max / N; the draw is floor(e_c) + Bernoulli(e_c - floor(e_c)).
    Head and middle classes get none. (This assumes uniform sampling, i.e.
    no class-balanced sampler.)

    Generated features (:meth:`sample`): x = mu'_c + F_c z, z ~ N(0, I),
    F_c F_c^T = S'_c, from torch's global RNG (restored by RNGStateHook, so a
    resumed run draws the same features).

    State lives in plain tensors on the features' device, not in buffers:
    it stays out of the state dict (the checkpoint remains an
    ImageClassifier checkpoint; :meth:`compute` runs at every stage start)
    and DDP never broadcasts it. Memory: the factors take T D^2 floats
    (T tail classes, D feature channels): CIFAR, ResNet-32 (64-d): < 1 MB;
    ImageNet-LT, ResNet-50 (2048-d, ~500 tail classes): ~8 GB.

    This is this project's formula, not GLAG's published one.

    Args:
        num_classes: C.
        k: head neighbours per tail class. Default 3.
        b: covariance offset. Default 0.1.
        tail_threshold: 'median' or a real count.
    """

    def __init__(self, num_classes: int, k: int = 3, b: float = 0.1,
                 tail_threshold: Union[str, float] = 'median'):
        super().__init__()
        if k < 1:
            raise ValueError(f'k must be >= 1, got {k}.')
        if b < 0:
            raise ValueError(f'b must be >= 0, got {b}.')
        if tail_threshold != 'median' and not isinstance(
                tail_threshold, (int, float)):
            raise ValueError("tail_threshold must be 'median' or a number, "
                             f'got {tail_threshold!r}.')
        self.num_classes = num_classes
        self.k = k
        self.b = b
        self.tail_threshold = tail_threshold
        self.train_counts = None
        self.computed = False

    # ------------------------------------------------------------ statistics
    @torch.no_grad()
    def compute(self, batches: Iterable[Tuple[torch.Tensor, torch.Tensor]]
                ) -> None:
        """``batches``: (features (N, D), labels (N,)) of this rank's share
        of the real training images."""
        feats, labels = [], []
        for x, y in batches:
            feats.append(x.detach().float())
            labels.append(y.to(x.device).long().view(-1))
        if not feats:
            raise ValueError('No real training features were given.')
        x, y = torch.cat(feats), torch.cat(labels)
        num_classes, dim = self.num_classes, x.size(1)
        if y.min() < 0 or y.max() >= num_classes:
            raise ValueError(f'Labels must lie in [0, {num_classes}).')
        counts = torch.bincount(y, minlength=num_classes).double()
        sums = torch.zeros(num_classes, dim, dtype=torch.float64,
                           device=x.device).index_add_(0, y, x.double())
        all_reduce(counts)
        all_reduce(sums)
        if (counts == 0).any():
            missing = torch.nonzero(counts == 0).flatten().tolist()
            raise ValueError(f'Classes {missing} have no real training '
                             'image, so they have no feature statistics.')
        means = sums / counts[:, None]
        threshold = (torch.quantile(counts, 0.5) if self.tail_threshold
                     == 'median' else float(self.tail_threshold))
        tail = torch.nonzero(counts < threshold).flatten()
        head = torch.nonzero(counts > threshold).flatten()
        if len(tail) and not len(head):
            raise ValueError(
                f'Tail classes {tail.tolist()} have no head class (real '
                f'count above {float(threshold)}) to borrow statistics from.')
        if len(tail) and (counts[head] < 2).any():
            raise ValueError('Every head class needs >= 2 real images for '
                             'a covariance; raise tail_threshold.')
        k = min(self.k, len(head))
        order = torch.argsort(torch.cdist(means[tail], means[head]), dim=1,
                              stable=True)[:, :k]
        neighbours = head[order]  # (T, k) class indices
        cal_mean = (means[tail] + means[neighbours].sum(1)) / (k + 1)
        factors = torch.zeros(len(tail), dim, dim, device=x.device)
        block = max(1, _BLOCK_VALUES // (dim * dim * max(k, 1)))
        eye = torch.eye(dim, dtype=torch.float64, device=x.device)
        for start in range(0, len(tail), block):
            rows = neighbours[start:start + block]
            cov = torch.zeros(len(rows), dim, dim, dtype=torch.float64,
                              device=x.device)
            scatter = {}
            for i, heads in enumerate(rows.tolist()):
                for h in heads:
                    if h not in scatter:  # this rank's share of S_h
                        d = x[y == h].double() - means[h]
                        scatter[h] = d.T @ d / (counts[h] - 1)
                    cov[i] += scatter[h]
            all_reduce(cov)
            cov = cov / k + self.b * eye
            for i in range(len(rows)):
                factors[start + i] = psd_factor(cov[i]).float()

        self.real_counts = counts.long()
        self.class_mean = means.float()
        self.tail_classes, self.head_classes = tail, head
        self.neighbours = neighbours
        self.calibrated_mean = cal_mean.float()
        self.factor = factors
        self.computed = True

    def summary(self, max_listed: int = 20) -> str:
        """The split and, for up to ``max_listed`` tail classes, their
        nearest head classes."""
        self._check_computed()
        tail = self.tail_classes.tolist()
        text = (f'Feature statistics of {int(self.real_counts.sum())} real '
                f'training images: {len(tail)} tail, '
                f'{len(self.head_classes)} head classes')
        if len(tail) <= max_listed:
            pairs = zip(tail, self.neighbours.tolist())
            text += '; tail class: nearest heads ' + ', '.join(
                f'{c}: {h}' for c, h in pairs)
        return text + '.'

    def calibrated_covariance(self) -> torch.Tensor:
        """S'_c = F_c F_c^T of every tail class, (T, D, D), float64."""
        self._check_computed()
        f = self.factor.double()
        return f @ f.transpose(1, 2)

    def _check_computed(self) -> None:
        if not self.computed:
            raise RuntimeError(
                'The tail-class feature statistics were never computed: add '
                "dict(type='FeatureStatisticsHook') to custom_hooks (it "
                'calls model.compute_feature_statistics with the real '
                'training images before training).')

    # ------------------------------------------------------------ generation
    def set_class_counts(self, counts: Sequence[int]) -> None:
        """Training counts n_c (real + synthetic) of the balancing rule."""
        counts = check_class_counts(counts)
        if counts.numel() != self.num_classes:
            raise ValueError(f'Got counts for {counts.numel()} classes, the '
                             f'model has {self.num_classes}.')
        self.train_counts = counts

    def expected_per_batch(self, batch_size: int) -> torch.Tensor:
        """e_c = B (n_max - n_c) / N for every tail class, (T,) float64."""
        self._check_computed()
        if self.train_counts is None:
            raise class_counts_missing(type(self).__name__)
        n = self.train_counts
        tail = self.tail_classes.cpu()
        return batch_size * (n.max() - n[tail]).clamp_min(0) / n.sum()

    def num_to_generate(self, batch_size: int) -> torch.Tensor:
        """floor(e_c) + Bernoulli(e_c - floor(e_c)) per tail class, (T,)."""
        expected = self.expected_per_batch(batch_size)
        base = expected.floor()
        extra = torch.rand(expected.shape, dtype=torch.float64) < \
            expected - base
        return (base + extra).long()

    def sample(self, num_per_tail: Sequence[int]
               ) -> Tuple[torch.Tensor, torch.Tensor]:
        """``num_per_tail[i]`` draws of tail class ``tail_classes[i]``:
        features (M, D) and labels (M,), on the statistics' device."""
        self._check_computed()
        num = torch.as_tensor(num_per_tail, dtype=torch.long).cpu()
        if num.shape != self.tail_classes.shape:
            raise ValueError(f'Expected {len(self.tail_classes)} counts (one '
                             f'per tail class), got {tuple(num.shape)}.')
        mean, factor = self.calibrated_mean, self.factor
        z = torch.randn(int(num.sum()), mean.size(1), device=mean.device)
        feats = []
        for i, part in zip(range(len(num)), z.split(num.tolist())):
            if len(part):
                feats.append(mean[i] + part @ factor[i].T)
        feats = torch.cat(feats) if feats else z
        labels = self.tail_classes.repeat_interleave(num.to(mean.device))
        return feats, labels
