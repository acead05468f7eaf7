"""Manifests made from images that already exist (tests, demos, diagnosis)."""
import os
import os.path as osp
from typing import Iterable, List, Optional, Sequence

from .manifest import ManifestRecord, write_manifest
from .sources import read_image_folder


def manifest_from_image_folder(folder: str, manifest_path: str, source: str,
                               classes: Optional[Sequence[str]] = None,
                               exclude_paths: Iterable[str] = ()) -> int:
    """Write a manifest of every image of ``folder/<class>/<file>``.

    Labels follow ``classes`` (default: the sorted class folders); a class
    folder that is not in ``classes`` is an error. Paths are stored relative
    to the manifest's folder. Returns the number of records.
    """
    found, samples = read_image_folder(folder, None)
    classes = list(classes) if classes is not None else found
    unknown = sorted(set(found) - set(classes))
    if unknown:
        raise ValueError(f'Class folders {unknown} of {folder!r} are not '
                         f'among the dataset classes {classes}.')
    index = {name: classes.index(name) for name in found}
    exclude = {osp.abspath(p) for p in exclude_paths}
    out_dir = osp.dirname(osp.abspath(manifest_path))
    records: List[ManifestRecord] = []
    for sample in samples:
        path = osp.abspath(sample['img_path'])
        if path in exclude:
            continue
        records.append(ManifestRecord(
            path=os.path.relpath(path, out_dir),
            label=index[found[sample['gt_label']]], source=source))
    write_manifest(manifest_path, records)
    return len(records)
