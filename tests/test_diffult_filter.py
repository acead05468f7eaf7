"""DiffuLT filter rules on hand-built features and logits."""
import math

import torch

from sau_mm.generation.diffult.filtering import (agreement_filter,
                                                 class_centres,
                                                 centroid_filter)


def test_agreement_keeps_confident_correct_predictions():
    probs = torch.tensor([[0.7, 0.2, 0.1],   # class 0, p=0.7: keep
                          [0.4, 0.35, 0.25],  # class 0, p=0.4 < 0.5: drop
                          [0.1, 0.8, 0.1],   # labelled 2, predicted 1: drop
                          [0.2, 0.2, 0.6]])  # class 2, p=0.6: keep
    labels = torch.tensor([0, 0, 2, 2])
    keep, scores = agreement_filter(probs.log(), labels, threshold=0.5)
    assert keep.tolist() == [True, False, False, True]
    torch.testing.assert_close(scores, torch.tensor([0.7, 0.4, 0.1, 0.6]))


def unit(deg):
    return [math.cos(math.radians(deg)), math.sin(math.radians(deg))]


def test_centres_are_normalised_means_of_normalised_features():
    feats = torch.tensor([[3., 0.], [0., 5.], [0., -2.]])
    centres = class_centres(feats, torch.tensor([0, 0, 1]), 2)
    torch.testing.assert_close(centres, torch.tensor(
        [[2 ** -0.5, 2 ** -0.5], [0., -1.]]))


def test_centroid_keeps_samples_as_typical_as_the_real_quantile():
    # Real class 0 at angles -20..20 degrees (centre at 0), class 1 around
    # 90 degrees; magnitudes vary and must not matter (cosine).
    real = torch.tensor([unit(a) for a in (-20, -10, 0, 10, 20)]
                        + [unit(a) for a in (80, 90, 100)]) * torch.tensor(
                            [[1.], [2.], [3.], [4.], [5.], [1.], [7.], [2.]])
    real_labels = torch.tensor([0] * 5 + [1] * 3)
    # The median (q = 0.5) of class 0's cosines {cos20, cos10, 1, cos10,
    # cos20} is cos 10 degrees; of class 1's {cos10, 1, cos10} too.
    syn = torch.tensor([unit(5), unit(15), unit(-9), unit(90), unit(60),
                        unit(45)]) * 10
    syn_labels = torch.tensor([0, 0, 0, 1, 1, 0])
    keep, scores, thr = centroid_filter(real, real_labels, syn, syn_labels,
                                        num_classes=2, quantile=0.5)
    torch.testing.assert_close(thr, torch.full((2, ), math.cos(
        math.radians(10))))
    assert keep.tolist() == [True, False, True, True, False, False]
    torch.testing.assert_close(scores[:3], torch.tensor(
        [math.cos(math.radians(a)) for a in (5, 15, 9)]))


def test_summary_names_the_classes_that_kept_no_image(tmp_path,
                                                      monkeypatch):
    """Classes 1 and 3 lose every sample to the filter: the summary line
    names them (the table alone hid them among 101 rows)."""
    from sau_mm.generation.diffult import filtering
    logged = []
    monkeypatch.setattr(filtering, 'print_log',
                        lambda msg, **kw: logged.append(msg))
    labels = torch.tensor([0, 0, 1, 1, 2, 3, 3, 3])
    keep = torch.tensor([True, False, False, False, True, False, False,
                         False])
    report = filtering._report(
        'agreement', 0.5, None, ['a', 'b', 'c', 'd', 'e'], [9, 5, 6, 4, 9],
        labels, keep, torch.linspace(0, 1, 8), None, None)
    # class 4 needs nothing and was not sampled: not a loss
    assert report['none_kept'] == [1, 3]
    assert [r['short'] for r in report['per_class']] == [0, 4, 2, 5, 0]
    out = str(tmp_path / 'manifest_filtered.jsonl')
    filtering._write_report(out, report)
    first = logged[0].splitlines()[0]
    assert first == (
        'DiffuLT filter (agreement): kept 2 / 8, target 9 per class; 2 '
        'classes kept 0 images, they stay short of the target (a run with '
        'this manifest needs allow_partial_fill=True): 1 (b), 3 (d)')
    assert open(str(tmp_path / 'manifest_filtered.report.log')).readline() \
        .rstrip('\n') == first
