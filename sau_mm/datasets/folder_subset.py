"""A small copy of an image folder for smoke runs: the first N images (by
sorted file name, the order :func:`~sau_mm.datasets.sources.read_image_folder`
lists them in) of every class of each split, ``src/<split>/<class>/<file>``
-> ``dst/<split>/<class>/<file>``.

The copy is made in ``dst.partial`` and renamed into place, so ``dst`` either
does not exist or is complete; an existing complete ``dst`` is left as it is.
"""
import os
import os.path as osp
import shutil
from typing import Dict, List, Optional

from .sources import IMG_EXTENSIONS, image_folder_classes


def planned_subset(src: str, per_split: Dict[str, int]
                   ) -> Dict[str, Dict[str, List[str]]]:
    """{split: {class: the first min(n, available) image names}}."""
    plan = {}
    for split, n in per_split.items():
        if n < 1:
            raise ValueError(f'{split}: the images per class must be >= 1, '
                             f'got {n}.')
        plan[split] = {}
        for name in image_folder_classes(src, split):
            folder = osp.join(src, split, name)
            files = sorted(f for f in os.listdir(folder)
                           if f.lower().endswith(IMG_EXTENSIONS))
            plan[split][name] = files[:n]
    return plan


def subset_problem(dst: str, plan: Dict[str, Dict[str, List[str]]]
                   ) -> Optional[str]:
    """None if ``dst`` holds exactly the planned files, else what differs."""
    for split, classes in plan.items():
        root = osp.join(dst, split)
        if not osp.isdir(root):
            return f'{root} is missing'
        found = sorted(e.name for e in os.scandir(root) if e.is_dir())
        if found != sorted(classes):
            return (f'{root} has the class folders {found}, expected '
                    f'{sorted(classes)}')
        for name, files in classes.items():
            have = sorted(os.listdir(osp.join(root, name)))
            if have != sorted(files):
                return (f'{osp.join(root, name)} has {len(have)} files, '
                        f'expected the {len(files)} planned ones')
    return None


def subset_image_folder(src: str, dst: str, per_split: Dict[str, int]
                        ) -> Dict[str, Dict[str, List[str]]]:
    """Copy the planned subset of ``src`` to ``dst`` (module doc); returns the
    plan. An existing ``dst`` with other files is an error naming it."""
    plan = planned_subset(src, per_split)
    if osp.exists(dst):
        problem = subset_problem(dst, plan)
        if problem is None:
            return plan
        raise FileExistsError(
            f'{dst} exists and is not this subset of {src} ({problem}). '
            'Remove it, or choose another destination.')
    partial = f'{dst.rstrip(os.sep)}.partial'
    if osp.exists(partial):  # left by an interrupted copy
        shutil.rmtree(partial)
    for split, classes in plan.items():
        for name, files in classes.items():
            folder = osp.join(partial, split, name)
            os.makedirs(folder)
            for f in files:
                shutil.copyfile(osp.join(src, split, name, f),
                                osp.join(folder, f))
    os.rename(partial, dst)
    return plan
