"""How close a set of generated features is to the real ones.

- Improved precision and recall (Kynkaanniemi et al., NeurIPS 2019), k = 3:
  r_k(x, X) = distance from x in X to its k-th nearest neighbour in X
  (itself excluded); the manifold of X is the union of the balls
  B(x, r_k(x, X)). precision = share of generated samples inside the real
  manifold, recall = share of real samples inside the generated manifold:

      precision = 1/|G| sum_{g in G} [exists r in R: ||g - r|| <= r_k(r, R)]
      recall    = 1/|R| sum_{r in R} [exists g in G: ||r - g|| <= r_k(g, G)]

  Defined when both sets have more than k samples.
- Frechet distance between Gaussians fitted to both sets (means m, unbiased
  covariances S, as in FID):

      FD = ||m_1 - m_2||^2 + tr(S_1) + tr(S_2) - 2 tr((S_1 S_2)^(1/2)),

  with tr((S_1 S_2)^(1/2)) = sum_i sqrt(lambda_i(S_1^(1/2) S_2 S_1^(1/2)))
  (a symmetric PSD matrix, so ``eigvalsh``; S_1^(1/2) by its own
  eigen-decomposition; scipy is not needed). Defined for 2+ samples each.

Both depend on the set sizes (k-NN radii shrink as a set grows; the
Frechet distance is biased upwards for small sets), so two sets are
compared at equal sizes (:func:`equal_size`), as in Kynkaanniemi et al.'s
protocol, and numbers are comparable across classes of different sizes.

With n <= d (no more samples than feature dimensions) both covariances are
singular and the Frechet distance is mostly the estimation error of d
variances from n samples: :func:`frechet_reliable` says when it means
something. What works there: the distance in fewer dimensions, both sets
projected onto the top d' < n principal directions of a reference set
(:func:`pca_basis`, e.g. fitted on all real features pooled; :func:`project`).

All in float64 NumPy; distances in row chunks (memory O(chunk x n)).
"""
from typing import Optional, Tuple

import numpy as np

CHUNK = 1024


def equal_size(x: np.ndarray, y: np.ndarray, seed: int = 0
               ) -> Tuple[np.ndarray, np.ndarray]:
    """Both sets cut to m = min(len(x), len(y)) rows: the larger one by a
    seeded draw without replacement, ``np.random.default_rng(seed).choice(n,
    m, replace=False)``, kept in its original order."""
    m = min(len(x), len(y))

    def cut(a):
        if len(a) == m:
            return a
        idx = np.random.default_rng(seed).choice(len(a), m, replace=False)
        return a[np.sort(idx)]
    return cut(x), cut(y)


def pairwise_sq_dist(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """||a_i - b_j||^2, clipped at 0 against round-off."""
    d = (a * a).sum(1)[:, None] + (b * b).sum(1)[None, :] - 2.0 * a @ b.T
    return np.maximum(d, 0.0)


def knn_radii(x: np.ndarray, k: int = 3) -> np.ndarray:
    """r_k(x_i, X): squared distance to the k-th nearest other sample."""
    x = np.asarray(x, dtype=np.float64)
    out = np.empty(len(x))
    for s in range(0, len(x), CHUNK):
        d = pairwise_sq_dist(x[s:s + CHUNK], x)
        # the row holds the sample itself at distance 0: index k is the
        # k-th nearest other sample
        out[s:s + CHUNK] = np.partition(d, k, axis=1)[:, k]
    return out


def coverage(queries: np.ndarray, support: np.ndarray,
             radii: np.ndarray) -> np.ndarray:
    """Per query: inside some ball B(support_j, radii_j) (squared radii)."""
    queries = np.asarray(queries, dtype=np.float64)
    support = np.asarray(support, dtype=np.float64)
    inside = np.empty(len(queries), dtype=bool)
    for s in range(0, len(queries), CHUNK):
        d = pairwise_sq_dist(queries[s:s + CHUNK], support)
        inside[s:s + CHUNK] = (d <= radii[None, :]).any(1)
    return inside


def precision_recall(real: np.ndarray, fake: np.ndarray, k: int = 3
                     ) -> Optional[dict]:
    """``{'precision', 'recall'}`` of ``fake`` against ``real`` (module
    docstring); None when a set has k samples or fewer."""
    if len(real) <= k or len(fake) <= k:
        return None
    precision = coverage(fake, real, knn_radii(real, k)).mean()
    recall = coverage(real, fake, knn_radii(fake, k)).mean()
    return dict(precision=float(precision), recall=float(recall))


def _sqrt_psd(s: np.ndarray) -> np.ndarray:
    w, v = np.linalg.eigh(s)
    return (v * np.sqrt(np.clip(w, 0.0, None))) @ v.T


def frechet_distance(x: np.ndarray, y: np.ndarray) -> Optional[float]:
    """Frechet distance of Gaussian fits of ``x`` and ``y`` (rows:
    samples); None when a set has fewer than 2 samples."""
    if len(x) < 2 or len(y) < 2:
        return None
    x = np.asarray(x, dtype=np.float64)
    y = np.asarray(y, dtype=np.float64)
    m1, m2 = x.mean(0), y.mean(0)
    s1 = np.atleast_2d(np.cov(x, rowvar=False))
    s2 = np.atleast_2d(np.cov(y, rowvar=False))
    r1 = _sqrt_psd(s1)
    middle = r1 @ s2 @ r1
    lam = np.linalg.eigvalsh((middle + middle.T) / 2)
    tr_sqrt = np.sqrt(np.clip(lam, 0.0, None)).sum()
    fd = ((m1 - m2) ** 2).sum() + np.trace(s1) + np.trace(s2) - 2 * tr_sqrt
    return float(max(fd, 0.0))


def frechet_reliable(n: int, dims: int) -> bool:
    """Whether a Frechet distance of two n-sample sets in ``dims``
    dimensions is worth reading: n > dims (else the covariances are
    singular)."""
    return n > dims


def pca_basis(x: np.ndarray, dims: int) -> Tuple[np.ndarray, np.ndarray]:
    """``(mean, components)`` of ``x`` (rows: samples): its mean and the
    ``dims`` eigenvectors of its covariance with the largest eigenvalues,
    as the columns of a (D, dims) matrix."""
    x = np.asarray(x, dtype=np.float64)
    w, v = np.linalg.eigh(np.atleast_2d(np.cov(x, rowvar=False)))
    return x.mean(0), v[:, np.argsort(w)[::-1][:dims]]


def project(x: np.ndarray, basis: Tuple[np.ndarray, np.ndarray]
            ) -> np.ndarray:
    """``(x - mean) @ components``: rows of ``x`` in the basis's
    coordinates."""
    mean, components = basis
    return (np.asarray(x, dtype=np.float64) - mean) @ components
