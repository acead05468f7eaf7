"""MixPartnerSampler + MixPartnerDataset: each epoch pairs a main permutation
with an independent partner permutation of the same set
(docs/method.md#mix-partner)."""
import os.path as osp

import mmengine.dataset.sampler as mme_sampler
import pytest
import torch
from mmcv.transforms import Compose
from mmengine.config import Config
from mmengine.dataset import DefaultSampler, default_collate
from mmengine.registry import init_default_scope
from mmpretrain.registry import DATA_SAMPLERS, DATASETS
from torch.utils.data import DataLoader

from sau_mm.datasets import MixPartnerDataset, MixPartnerSampler
from sau_mm.datasets.transforms import SAUView

from tests.support.data import make_image_folder, make_synthetic_manifest

ROOT = osp.dirname(osp.dirname(osp.abspath(__file__)))
FLIP = dict(type='RandomFlip', prob=1.0, direction='horizontal')
# Deterministic views, so items can be compared with a reference.
MAIN_PIPE = [dict(type='LoadImage'),
             dict(type='MultiView', num_views=[1, 1, 1],
                  transforms=[[], [FLIP], []]),
             dict(type='PackInputs', algorithm_keys=['is_synthetic'])]
PARTNER_PIPE = [dict(type='LoadImage'), FLIP, dict(type='PackInputs')]


class Sized:
    def __init__(self, n):
        self.n = n

    def __len__(self):
        return self.n


@pytest.fixture(scope='module')
def dataset(tmp_path_factory):
    init_default_scope('mmpretrain')  # transforms by name, as the runner
    tmp = tmp_path_factory.mktemp('mix')
    root = make_image_folder(str(tmp / 'data'), [6, 3, 2])
    manifest = make_synthetic_manifest(str(tmp / 'syn'), [0, 3, 4])
    ds = DATASETS.build(dict(
        type='MixPartnerDataset', partner_pipeline=PARTNER_PIPE,
        dataset=dict(type='LongTailSyntheticDataset', data_root=root,
                     source='image_folder', synthetic_manifest=manifest,
                     pipeline=MAIN_PIPE)))
    assert len(ds) == 18 and ds.dataset.num_real == 11
    return ds


def pairs(sampler):
    out = list(sampler)
    assert all(isinstance(i, int) and isinstance(j, int) for i, j in out)
    return [i for i, _ in out], [j for _, j in out]


def test_one_epoch_uses_every_sample_once_as_partner():
    n = 50
    sampler = MixPartnerSampler(Sized(n), seed=0)
    main, partner = pairs(sampler)
    assert len(main) == len(sampler) == n
    assert sorted(main) == list(range(n))
    assert sorted(partner) == list(range(n))  # fails with replacement
    assert partner != main
    # The main order is exactly DefaultSampler's.
    assert main == list(DefaultSampler(Sized(n), seed=0))
    # shuffle=False: main order fixed, partners still a fresh permutation.
    fixed, partner_fixed = pairs(MixPartnerSampler(Sized(n), shuffle=False,
                                                   seed=0))
    assert fixed == list(range(n))
    assert sorted(partner_fixed) == list(range(n)) and partner_fixed != fixed


def test_pairs_depend_only_on_seed_and_epoch():
    a = MixPartnerSampler(Sized(40), seed=3)
    b = MixPartnerSampler(Sized(40), seed=3)
    epoch0 = list(a)
    assert list(b) == epoch0 and list(a) == epoch0  # iterating changes nothing
    a.set_epoch(1)
    b.set_epoch(1)
    epoch1 = list(a)
    assert list(b) == epoch1
    main0, partner0 = zip(*epoch0)
    main1, partner1 = zip(*epoch1)
    assert main0 != main1 and partner0 != partner1
    a.set_epoch(0)
    assert list(a) == epoch0
    assert list(MixPartnerSampler(Sized(40), seed=4)) != epoch0


def test_two_ranks_split_the_round_up_list_like_default_sampler(monkeypatch):
    n = 13  # odd: rounded up to 14 on 2 ranks

    def build(cls, module, rank, world, **kwargs):
        monkeypatch.setattr(module, 'get_dist_info', lambda: (rank, world))
        sampler = cls(Sized(n), seed=5, **kwargs)
        sampler.set_epoch(2)
        return sampler

    shards = [list(build(MixPartnerSampler, mme_sampler, r, 2)) for r in range(2)]
    assert [len(s) for s in shards] == [7, 7]
    main, partner = pairs(build(MixPartnerSampler, mme_sampler, 0, 1))
    # the round-up list: the epoch's permutations padded by their own start
    full = list(zip(main + main[:1], partner + partner[:1]))
    assert shards[0] == full[0::2] and shards[1] == full[1::2]
    assert {i for s in shards for i, _ in s} == set(range(n))
    assert {j for s in shards for _, j in s} == set(range(n))
    for r in range(2):
        default = build(DefaultSampler, mme_sampler, r, 2)
        assert [i for i, _ in shards[r]] == list(default)
    # round_up=False: no padding, 7 + 6 pairs, no overlap
    short = [list(build(MixPartnerSampler, mme_sampler, r, 2, round_up=False))
             for r in range(2)]
    assert [len(s) for s in short] == [7, 6]
    assert sorted(short[0] + short[1]) == sorted(full[:n])


def test_item_carries_the_given_partner(dataset):
    partner_pipe = Compose(PARTNER_PIPE)
    inner = dataset.dataset
    for idx, partner_idx in [(0, 17), (15, 2), (4, 4)]:
        item = dataset[(idx, partner_idx)]
        assert len(item['inputs']) == SAUView.PARTNER + 1
        ref = inner[idx]
        for v in range(SAUView.PARTNER):
            assert torch.equal(item['inputs'][v], ref['inputs'][v])
        expected = partner_pipe(inner.get_data_info(partner_idx))
        assert torch.equal(item['inputs'][SAUView.PARTNER],
                           expected['inputs'])
        sample = item['data_samples']
        info = inner.get_data_info(partner_idx)
        assert int(sample.partner_label) == info['gt_label']
        assert sample.partner_is_synthetic is bool(info['is_synthetic'])
        assert sample.partner_is_synthetic is (partner_idx >= inner.num_real)
        assert int(sample.gt_label) == inner.get_data_info(idx)['gt_label']


def test_errors(dataset):
    with pytest.raises(TypeError, match="type='MixPartnerSampler'"):
        dataset[3]
    two_views = [dict(type='LoadImage'),
                 dict(type='MultiView', num_views=[1, 1], transforms=[[], []]),
                 dict(type='PackInputs')]
    wrong = MixPartnerDataset(
        dict(type='LongTailSyntheticDataset',
             data_root=dataset.dataset.data_root, source='image_folder',
             pipeline=two_views), PARTNER_PIPE)
    with pytest.raises(ValueError, match='exactly 3 views'):
        wrong[(0, 1)]
    with pytest.raises(ValueError, match='empty dataset'):
        MixPartnerSampler(Sized(0), seed=0)


def test_dataloader_batches_match_the_sampler(dataset):
    sampler = DATA_SAMPLERS.build(dict(type='MixPartnerSampler'),
                                  default_args=dict(dataset=dataset,
                                                    seed=None))
    assert isinstance(sampler.seed, int)
    sampler.set_epoch(1)
    loader = DataLoader(dataset, batch_size=5, sampler=sampler,
                        num_workers=0, collate_fn=default_collate)
    expected = list(sampler)
    labels = dataset.get_gt_labels()
    inner = dataset.dataset
    seen = []
    for batch in loader:
        inputs = batch['inputs']
        assert len(inputs) == SAUView.PARTNER + 1
        for k, s in enumerate(batch['data_samples']):
            i, j = expected[len(seen)]
            seen.append((i, j))
            assert int(s.gt_label) == labels[i]
            assert int(s.partner_label) == labels[j]
            assert s.partner_is_synthetic is (j >= inner.num_real)
            assert torch.equal(inputs[SAUView.PARTNER][k],
                               inner[j]['inputs'][SAUView.V2])  # both flipped
    assert seen == expected
    assert sorted(j for _, j in seen) == list(range(len(dataset)))


@pytest.mark.parametrize('name', ['sau_cifar10_lt.py', 'sau_imagenet_lt.py'])
def test_sau_configs_use_the_sampler(name):
    cfg = Config.fromfile(osp.join(ROOT, 'configs/_base_/datasets', name))
    assert cfg.train_dataloader.sampler == dict(type='MixPartnerSampler',
                                                shuffle=True)
    assert cfg.train_dataloader.dataset.type == 'MixPartnerDataset'
