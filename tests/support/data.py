"""Small datasets in the real on-disk formats, generated for the tests.

Images are class-dependent colour patterns plus noise, so a few training
steps can learn them.
"""
import os
import os.path as osp
import pickle

import numpy as np
from PIL import Image

from sau_mm.datasets.manifest import ManifestRecord, write_manifest


def class_images(label: int, n: int, rng, size: int = 32) -> np.ndarray:
    """n HxWx3 uint8 images whose mean colour depends on the label."""
    base = np.array([(label * 67) % 256, (label * 131) % 256,
                     (label * 29) % 256], dtype=np.float32)
    noise = rng.normal(0, 30, size=(n, size, size, 3))
    return np.clip(base + noise, 0, 255).astype(np.uint8)


def make_cifar(root: str, name: str = 'cifar10', num_classes: int = 10,
               train_per_class: int = 40, test_per_class: int = 5,
               seed: int = 0) -> str:
    """CIFAR-10/100 python-pickle layout (one train batch file for CIFAR-10
    split into the five data_batch_i files, as the real one)."""
    rng = np.random.default_rng(seed)
    folder = osp.join(root, 'cifar-10-batches-py' if name == 'cifar10'
                      else 'cifar-100-python')
    os.makedirs(folder, exist_ok=True)
    label_key = 'labels' if name == 'cifar10' else 'fine_labels'

    def split(per_class):
        labels = np.repeat(np.arange(num_classes), per_class)
        rng.shuffle(labels)
        imgs = np.concatenate([class_images(int(y), 1, rng) for y in labels])
        data = imgs.transpose(0, 3, 1, 2).reshape(len(labels), -1)
        return data, labels.tolist()

    def dump(path, data, labels):
        with open(osp.join(folder, path), 'wb') as f:
            pickle.dump({'data': data, label_key: labels}, f)

    data, labels = split(train_per_class)
    if name == 'cifar10':
        for i, part in enumerate(np.array_split(np.arange(len(labels)), 5)):
            dump(f'data_batch_{i + 1}', data[part], [labels[j] for j in part])
        dump('test_batch', *split(test_per_class))
        meta, key = 'batches.meta', 'label_names'
    else:
        dump('train', data, labels)
        dump('test', *split(test_per_class))
        meta, key = 'meta', 'fine_label_names'
    with open(osp.join(folder, meta), 'wb') as f:
        pickle.dump({key: [f'class_{c}' for c in range(num_classes)]}, f)
    return root


def make_image_folder(root: str, counts, split: str = 'train', seed: int = 0,
                      ext: str = 'png') -> str:
    """root/<split>/<class>/<NNNN>.<ext> with counts[c] images of class c."""
    rng = np.random.default_rng(seed)
    for c, n in enumerate(counts):
        folder = osp.join(root, split, f'class_{c}')
        os.makedirs(folder, exist_ok=True)
        for i, img in enumerate(class_images(c, n, rng)):
            Image.fromarray(img).save(osp.join(folder, f'{i:04d}.{ext}'))
    return root


def cifar_as_image_folder(cifar_root: str, out_root: str,
                          name: str = 'cifar10', split: str = 'train',
                          ext: str = 'png') -> str:
    """The images of the CIFAR pickles under ``cifar_root`` (make_cifar) also
    as ``out_root/<split>/<class>/NNNN.<ext>``, NNNN = rank of the image
    within its class in the pickle order (the layout of the cifar10-jpeg
    archive). PNG keeps the pixels exact."""
    from sau_mm.datasets.sources import read_cifar
    classes, samples = read_cifar(cifar_root, name, split)
    if sorted(classes) != classes:
        raise ValueError('class folders are read back in sorted order; the '
                         f'class names {classes[:3]}... are not sorted.')
    rank = [0] * len(classes)
    for s in samples:
        c = s['gt_label']
        folder = osp.join(out_root, split, classes[c])
        os.makedirs(folder, exist_ok=True)
        Image.fromarray(s['img']).save(osp.join(folder, f'{rank[c]:04d}.{ext}'))
        rank[c] += 1
    return out_root


def make_split_file(root: str, counts, name: str = 'train.txt',
                    seed: int = 0) -> str:
    """ImageNet-LT style: images under root/images, lines 'path label'."""
    rng = np.random.default_rng(seed)
    lines = []
    for c, n in enumerate(counts):
        folder = osp.join(root, 'images', f'n{c:08d}')
        os.makedirs(folder, exist_ok=True)
        for i, img in enumerate(class_images(c, n, rng)):
            rel = f'images/n{c:08d}/{i:04d}.jpg'
            Image.fromarray(img).save(osp.join(root, rel))
            lines.append(f'{rel} {c}\n')
    with open(osp.join(root, name), 'w') as f:
        f.writelines(lines)
    return osp.join(root, name)


def make_synthetic_manifest(out_dir: str, counts, seed: int = 1,
                            source: str = 'test-generator') -> str:
    """counts[c] generated PNGs of class c and their manifest.jsonl."""
    rng = np.random.default_rng(seed)
    records = []
    for c, n in enumerate(counts):
        folder = osp.join(out_dir, 'images', str(c))
        os.makedirs(folder, exist_ok=True)
        for i, img in enumerate(class_images(c, n, rng)):
            rel = f'images/{c}/{i:06d}.png'
            Image.fromarray(img).save(osp.join(out_dir, rel))
            records.append(ManifestRecord(path=rel, label=c, source=source,
                                          seed=i))
    path = osp.join(out_dir, 'manifest.jsonl')
    write_manifest(path, records)
    return path


def make_photo_folder(root: str, counts, split: str = 'train', seed: int = 0,
                      sizes=((64, 48), (48, 64), (80, 60), (16, 16))) -> str:
    """root/<split>/<class>/<NNNN>.jpg like a folder of camera photos: JPEGs
    of varied sizes (width, height), cycling through ``sizes``, the class
    colour pattern stretched over each."""
    rng = np.random.default_rng(seed)
    k = 0
    for c, n in enumerate(counts):
        folder = osp.join(root, split, f'class_{c:03d}')
        os.makedirs(folder, exist_ok=True)
        for i, img in enumerate(class_images(c, n, rng, size=16)):
            w, h = sizes[k % len(sizes)]
            k += 1
            Image.fromarray(img).resize((w, h), Image.NEAREST).save(
                osp.join(folder, f'{i:04d}.jpg'), quality=90)
    return root


def truncate_in_scan_data(path: str, fraction: float = 0.5) -> str:
    """Cut a JPEG file inside its entropy-coded scan data: keep the headers
    and ``fraction`` of the bytes after the start-of-scan marker (FFDA), so
    the header check ``Image.verify`` still passes."""
    with open(path, 'rb') as f:
        data = f.read()
    sos = data.find(b'\xff\xda')
    if sos < 0:
        raise ValueError(f'{path} has no start-of-scan marker.')
    cut = sos + 20 + int((len(data) - sos - 20) * fraction)
    with open(path, 'wb') as f:
        f.write(data[:cut])
    return path
