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
writes the three values into ``image_folder`` itself and into the places
the config names, in the config object, so the config the runner dumps
into the work dir shows the values actually used. It writes exactly these
and nothing else:

- ``data_root``, ``num_classes`` (None: the number of class folders in
  ``<data_root>/<train split>``, counted here) and ``image_size`` into the
  LongTailSyntheticDataset of each dataloader (below its wrappers; its
  images are resized to S x S when loaded);
- the dotted keys the config lists in ``image_folder_targets``:
  ``num_classes`` (e.g. ``model.head.num_classes``), ``image_size`` (e.g.
  the UNet's ``model.unet.sample_size``, the device path's
  ``data_preprocessor.image_size``) and ``sized_pipelines``: transform
  lists (or lists of them, e.g. ``data_preprocessor.views``) sized to S
  (:func:`~sau_mm.datasets.transforms.sizing.size_pipeline`: RandomCrop S
  with padding S/8, SimAugment S, SAUCutout S/2, ... from the recipe's
  numbers).

Setting one of those copies directly (``--cfg-options
train_dataloader.dataset.data_root=...``) in such a config is an error that
names the image_folder key to use instead; so is a listed key the config
does not have. So is a split whose class folders are not the training
split's (labels are positions in the sorted folder names): the error names
the split and the folders that differ.
"""
import os.path as osp
from typing import Optional

from mmengine.config import Config

from sau_mm.datasets.sources import image_folder_classes
from sau_mm.datasets.transforms.sizing import size_pipeline
from sau_mm.datasets.wrappers import long_tail_dataset_cfg

SETTINGS = ('data_root', 'num_classes', 'image_size')
# image_folder_targets: setting -> dotted keys that take its value, and
# sized_pipelines -> dotted keys of transform lists sized to image_size
TARGETS = ('data_root', 'num_classes', 'image_size', 'sized_pipelines')
LOADERS = ('train_dataloader', 'val_dataloader', 'test_dataloader')


def _image_folder_datasets(cfg) -> list:
    """(loader name, dataset dict) of every image-folder dataset."""
    out = []
    for loader in LOADERS:
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


def _get(cfg, key: str):
    """The value at a dotted key (list positions as numbers)."""
    node = cfg
    for part in key.split('.'):
        node = node[int(part)] if isinstance(node, list) else node[part]
    return node


def _set(cfg, key: str, value) -> None:
    parent, _, last = key.rpartition('.')
    node = _get(cfg, parent) if parent else cfg
    if isinstance(node, list):
        node[int(last)] = value
    else:
        node[last] = value


def targets(cfg: Config) -> dict:
    """{setting or ``sized_pipelines``: [dotted keys]} that
    :func:`apply_image_folder_settings` writes: the three data fields of
    each dataloader's LongTailSyntheticDataset, then the config's
    ``image_folder_targets``. ValueError naming a listed key the config
    does not have."""
    listed = cfg.get('image_folder_targets') or {}
    unknown = set(listed) - set(TARGETS)
    if unknown:
        raise ValueError(f'image_folder_targets takes {list(TARGETS)}, got '
                         f'{sorted(unknown)}.')
    out = {name: [] for name in TARGETS}
    for loader in LOADERS:
        key, ds = long_tail_dataset_cfg(cfg, loader)
        if ds is not None:
            for name in SETTINGS:
                out[name].append(f'{key}.{name}')
    for name, keys in listed.items():
        for key in keys:
            try:
                _get(cfg, key)
            except (KeyError, IndexError, ValueError, TypeError):
                raise ValueError(
                    f'image_folder_targets.{name} lists {key!r}, which this '
                    'config does not have: fix the key or remove it from the '
                    'list.') from None
            out[name].append(key)
    return out


def apply_image_folder_settings(cfg: Config,
                                cfg_options: Optional[dict] = None
                                ) -> Config:
    """Write ``cfg.image_folder``'s values into the places :func:`targets`
    names (see the module doc); a config without ``image_folder`` is
    returned unchanged. Idempotent. Returns ``cfg``."""
    settings = cfg.get('image_folder')
    if settings is None:
        return cfg
    unknown = set(settings) - set(SETTINGS)
    if unknown:
        raise ValueError(f'image_folder takes {list(SETTINGS)}, got '
                         f'{sorted(unknown)}.')
    written = targets(cfg)
    setting_of = {key: name for name in SETTINGS for key in written[name]}
    for key in cfg_options or {}:
        if key in setting_of:
            raise ValueError(
                f'--cfg-options {key}=...: this config takes its data root, '
                'class count and image size from the image_folder settings, '
                f'each set once: use image_folder.{setting_of[key]}=... '
                'instead (it reaches every dataloader, the model and the '
                'pipelines).')
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
    settings.update(values)  # a counted num_classes shows in the dump too
    for name in SETTINGS:
        for key in written[name]:
            _set(cfg, key, values[name])
    for key in written['sized_pipelines']:
        size_pipeline(_get(cfg, key), size)
    check_split_classes(cfg)
    return cfg
