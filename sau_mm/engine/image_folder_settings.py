"""The three settings of an image-folder config, each set once.

``configs/_base_/datasets/image_folder_lt.py`` declares

    image_folder = dict(data_root='data/my_images', num_classes=None,
                        image_size=32)

and builds every dataloader, pipeline and (in the leaf configs) the model
from it. A config file copies values when it is parsed, so an override of
``image_folder.data_root`` on the command line (MMEngine ``--cfg-options``)
would reach only the dict itself. :func:`apply_image_folder_settings` (run by
tools/train.py, test.py, diffult_sample.py, diffult_filter.py and
generate_synthetic.py after ``--cfg-options``, before anything is built)
writes the three values into every place that uses them, in the config
object itself, so the config the runner dumps into the work dir shows the
values actually used:

- ``data_root``: every ``data_root`` key (the train/val/test datasets);
- ``num_classes`` (None: the number of class folders in
  ``<data_root>/<train split>``, counted here): every ``num_classes`` key
  (datasets, ``model.head``, ``data_preprocessor``, the DiffuLT generator);
- ``image_size`` S: every LongTailSyntheticDataset's ``image_size`` (its
  images are resized to S x S when loaded), the UNet's ``sample_size``, and
  the size of every sized transform in the config (table ``SIZED``:
  RandomCrop S with padding S/8, SimAugment S, SAUCutout S/2, ...).

Setting one of those copies directly (``--cfg-options
train_dataloader.dataset.data_root=...``) in such a config is an error that
names the image_folder key to use instead. So is a split whose class folders
are not the training split's (labels are positions in the sorted folder
names): the error names the split and the folders that differ.
"""
import os.path as osp
from typing import Optional

from mmengine.config import Config

from sau_mm.datasets.sources import image_folder_classes
from sau_mm.datasets.wrappers import long_tail_dataset_cfg

SETTINGS = ('data_root', 'num_classes', 'image_size')
# key in the config -> the setting that feeds it
COPIES = dict(data_root='data_root', num_classes='num_classes',
              image_size='image_size', sample_size='image_size')
# transform type -> {key: value from the image size S} (key set only where
# the transform has it, except the first, which defines the size)
SIZED = {
    'RandomCrop': dict(crop_size=lambda s: s,
                       padding=lambda s: max(1, s // 8)),
    'CenterCrop': dict(crop_size=lambda s: s),
    'Resize': dict(scale=lambda s: (s, s)),
    'RandomResizedCrop': dict(scale=lambda s: s),
    'SimAugment': dict(size=lambda s: s),
    'SAUCutout': dict(length=lambda s: max(1, s // 2)),
}


def _image_folder_datasets(cfg) -> list:
    """(loader name, dataset dict) of every image-folder dataset."""
    out = []
    for loader in ('train_dataloader', 'val_dataloader', 'test_dataloader'):
        ds = long_tail_dataset_cfg(cfg, loader)[1] or {}
        if ds.get('source') == 'image_folder':
            out.append((loader, ds))
    return out


def _listing(names, most: int = 10) -> str:
    names = sorted(names)
    more = len(names) - most
    return repr(names[:most])[:-1] + (f', ... {more} more]' if more > 0
                                      else ']')


def check_split_classes(cfg) -> None:
    """Raise ValueError when the class folders of a val/test split differ
    from the training split's, naming the split and the folders."""
    datasets = _image_folder_datasets(cfg)
    train = next((ds for loader, ds in datasets
                  if loader == 'train_dataloader'), None)
    if train is None:
        return
    train_split = train.get('split', 'train')
    try:
        classes = set(image_folder_classes(train['data_root'], train_split))
    except (FileNotFoundError, ValueError):
        return  # the dataset's own error names the folder
    done = set()
    for loader, ds in datasets:
        where = (ds.get('data_root'), ds.get('split', 'train'))
        if loader == 'train_dataloader' or where in done:
            continue
        done.add(where)
        try:
            theirs = set(image_folder_classes(*where))
        except (FileNotFoundError, ValueError):
            continue
        if theirs == classes:
            continue
        raise ValueError(
            f'The class folders of {osp.join(*where)} ({loader}) are not '
            f'those of {osp.join(train["data_root"], train_split)}: only in '
            f'{train_split}: {_listing(classes - theirs)}, only in '
            f'{where[1]}: {_listing(theirs - classes)}. Labels are the '
            'positions of the sorted folder names, so both splits need the '
            'same class folders: add the missing ones (with their images) '
            'or remove the extra ones.')


def _walk(node, fn) -> None:
    if isinstance(node, dict):
        fn(node)
        for value in node.values():
            _walk(value, fn)
    elif isinstance(node, (list, tuple)):
        for value in node:
            _walk(value, fn)


def apply_image_folder_settings(cfg: Config,
                                cfg_options: Optional[dict] = None
                                ) -> Config:
    """Write ``cfg.image_folder``'s values into every place that uses them
    (see the module doc); a config without ``image_folder`` is returned
    unchanged. Idempotent. Returns ``cfg``."""
    settings = cfg.get('image_folder')
    if settings is None:
        return cfg
    unknown = set(settings) - set(SETTINGS)
    if unknown:
        raise ValueError(f'image_folder takes {list(SETTINGS)}, got '
                         f'{sorted(unknown)}.')
    for key in cfg_options or {}:
        setting = COPIES.get(key.split('.')[-1])
        if setting and not key.startswith('image_folder.'):
            raise ValueError(
                f'--cfg-options {key}=...: this config takes its data root, '
                'class count and image size from the image_folder settings, '
                f'each set once: use image_folder.{setting}=... instead (it '
                'reaches every dataloader, the model and the pipelines).')
    data_root = settings.get('data_root')
    size = settings.get('image_size')
    if not isinstance(size, int) or size < 1:
        raise ValueError(
            f'image_folder.image_size must be a positive int (images are '
            f'resized to image_size x image_size), got {size!r}.')
    num_classes = settings.get('num_classes')
    if num_classes is None:
        train = long_tail_dataset_cfg(cfg)[1] or {}
        split = train.get('split', 'train')
        try:
            num_classes = len(image_folder_classes(data_root, split))
        except (FileNotFoundError, ValueError) as e:
            raise type(e)(
                f'image_folder.data_root={data_root!r}: {e} (set '
                'image_folder.data_root to your folder; README "Your own '
                'data").') from e
    elif not isinstance(num_classes, int) or num_classes < 1:
        raise ValueError('image_folder.num_classes must be a positive int '
                         f'or None (count the class folders), got '
                         f'{num_classes!r}.')
    values = dict(data_root=data_root, num_classes=num_classes,
                  image_size=size)

    def fix(node: dict) -> None:
        for key, setting in COPIES.items():
            if key in node and not (key == 'image_size' and node.get(
                    'type') not in (None, 'LongTailSyntheticDataset')):
                node[key] = values[setting]
        if node.get('type') == 'LongTailSyntheticDataset':
            node['image_size'] = size
        rules = SIZED.get(node.get('type'), {})
        for i, (key, rule) in enumerate(rules.items()):
            if i == 0 or key in node:
                node[key] = rule(size)

    _walk(cfg._cfg_dict, fix)
    check_split_classes(cfg)
    return cfg
