"""Confusion matrix of a checkpoint on its config's test set, classes
ordered by their real training count (largest first), so the head is at the
top left and the tail at the bottom right.

M[i, j] = number of test images of class i predicted as class j; the figure
shows each row normalised to 100 % (the recall of class i on the diagonal).
"""
import csv
import json
import os
import os.path as osp
from typing import Optional

import numpy as np
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from mmpretrain.registry import DATASETS

from sau_mm.generation.complement import real_training_set
from .encoder import encode, load_classifier

DPI = 100


def confusion_matrix(labels: np.ndarray, preds: np.ndarray,
                     num_classes: int) -> np.ndarray:
    """(C, C) counts, rows = true class, columns = predicted class."""
    m = np.zeros((num_classes, num_classes), dtype=np.int64)
    np.add.at(m, (np.asarray(labels), np.asarray(preds)), 1)
    return m


def size_order(train_counts) -> np.ndarray:
    """Class indices by descending training count (ties: class order)."""
    return np.argsort(-np.asarray(train_counts), kind='stable')


def figure_size(num_classes: int) -> float:
    """Side of the square figure in inches."""
    return float(min(24, max(7, 3 + 0.22 * num_classes)))


def compute_confusion(config: str, checkpoint: str,
                      cfg_options: Optional[dict] = None,
                      device: str = 'cpu', batch_size: int = 256,
                      num_workers: int = 0) -> dict:
    """``{'classes', 'train_counts', 'order', 'matrix'}``: classes and
    counts in class order, ``order`` the size order, ``matrix`` in class
    order (rows true, columns predicted)."""
    model, cfg = load_classifier(config, checkpoint, cfg_options, device)
    loader = cfg.get('test_dataloader') or cfg.get('val_dataloader')
    test_set = DATASETS.build(loader['dataset'])
    real, _, _ = real_training_set(cfg)
    counts = list(real.real_class_counts)
    _, logits = encode(model, test_set, batch_size, num_workers,
                       desc='test set')
    labels = np.array([test_set.get_data_info(i)['gt_label']
                       for i in range(len(test_set))])
    matrix = confusion_matrix(labels, logits.argmax(1), len(counts))
    return dict(classes=list(real.metainfo['classes']), train_counts=counts,
                order=size_order(counts).tolist(), matrix=matrix.tolist())


def confusion_figure(result: dict, path: str, title: str) -> str:
    """Row-normalised heat map (%), rows and columns in size order; cell
    values written when there are at most 20 classes."""
    order = np.asarray(result['order'])
    m = np.asarray(result['matrix'], dtype=float)[order][:, order]
    rows = m.sum(1, keepdims=True)
    pct = np.divide(m * 100, rows, out=np.zeros_like(m), where=rows > 0)
    names = [f'{result["classes"][c]} ({result["train_counts"][c]})'
             for c in order]
    side = figure_size(len(order))
    fig = Figure(figsize=(side, side), layout='constrained')
    ax = fig.add_subplot()
    image = ax.imshow(pct, cmap='Blues', vmin=0, vmax=100)
    fig.colorbar(image, ax=ax, shrink=0.8, label='% of the true class')
    step = max(1, len(order) // 50)
    ticks = range(0, len(order), step)
    ax.set_xticks(ticks, [names[i] for i in ticks], rotation=90, fontsize=7)
    ax.set_yticks(ticks, [names[i] for i in ticks], fontsize=7)
    ax.set_xlabel('predicted class (real training images)')
    ax.set_ylabel('true class (real training images)')
    ax.set_title(title)
    if len(order) <= 20:
        for i in range(len(order)):
            for j in range(len(order)):
                ax.text(j, i, f'{pct[i, j]:.0f}', ha='center', va='center',
                        fontsize=7,
                        color='white' if pct[i, j] > 50 else 'black')
    FigureCanvasAgg(fig)
    fig.savefig(path, dpi=DPI)
    return path


def write_confusion(result: dict, out_dir: str, title: str) -> dict:
    """``confusion.png``, ``confusion.json`` (the result) and
    ``confusion.csv`` (size order, counts) in ``out_dir``; name -> path."""
    os.makedirs(out_dir, exist_ok=True)
    paths = {k: osp.join(out_dir, f'confusion.{k}')
             for k in ('png', 'json', 'csv')}
    confusion_figure(result, paths['png'], title)
    with open(paths['json'], 'w') as f:
        json.dump(result, f, indent=1)
    order = result['order']
    names = [result['classes'][c] for c in order]
    with open(paths['csv'], 'w', newline='') as f:
        writer = csv.writer(f)
        writer.writerow(['true \\ predicted'] + names)
        for c, name in zip(order, names):
            writer.writerow([name] + [result['matrix'][c][d] for d in order])
    return paths
