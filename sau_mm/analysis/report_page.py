"""The synthetic report's contact sheets and static HTML page.

One sheet per class (``sheets/<c>_<name>.png``, ``contact_sheet`` of the
text-to-image inspect stage), rows: real images, kept synthetic images (a
seeded random choice), dropped (red frame) or noise-flagged (orange frame)
synthetic images (when there are any), and the lowest-scored synthetic
images (when there are scores; score as caption). ``index.html``: the
summary and one row per class with its numbers beside its sheet; images are
the relative PNG files, so the folder can be copied and opened anywhere, no
server.
"""
import html
import os
import os.path as osp
import random
import re
from typing import List

import numpy as np
from PIL import Image
from tqdm import tqdm

from sau_mm.generation.text2image.contact_sheet import (DROPPED,
                                                      captioned_tile,
                                                      contact_sheet)
from sau_mm.generation.text2image.plan import real_image

TILE = 64
FLAGGED = (255, 140, 0)


def tile(img: Image.Image, caption: str = None, frame=None) -> Image.Image:
    """A TILE x TILE image (pixels kept: nearest) with an optional caption
    line and frame."""
    return captioned_tile(img, TILE, caption, frame, Image.NEAREST)


def _syn_tile(syn, i: int) -> Image.Image:
    frame = DROPPED if not syn.kept[i] else FLAGGED if syn.flagged[i] \
        else None
    score = syn.scores[i]
    with Image.open(syn.paths[i]) as img:
        return tile(img, None if np.isnan(score) else f'{score:.3f}', frame)


def write_sheets(report: dict, real, syn, out_dir: str, per_row: int,
                 seed: int) -> List[str]:
    """One contact sheet per class of ``report['classes']``; the paths."""
    folder = osp.join(out_dir, 'sheets')
    os.makedirs(folder, exist_ok=True)
    rng = random.Random(seed)
    real_by_class = {}
    for i in range(len(real)):
        real_by_class.setdefault(real.get_data_info(i)['gt_label'],
                                 []).append(i)
    paths = []
    for row in tqdm(report['classes'], desc='contact sheets', unit='class'):
        c = row['label']
        idx = real_by_class.get(c, [])
        real_tiles = [tile(Image.fromarray(real_image(real, i)))
                      for i in rng.sample(idx, min(per_row, len(idx)))]
        mine = np.flatnonzero(syn.labels == c)
        kept = [i for i in mine if syn.kept[i] and not syn.flagged[i]]
        bad = [i for i in mine if not syn.kept[i]] + \
              [i for i in mine if syn.kept[i] and syn.flagged[i]]
        rows = [('real', real_tiles),
                ('synthetic, kept', [_syn_tile(syn, i) for i in rng.sample(
                    kept, min(per_row, len(kept)))])]
        if bad:
            rows.append(('dropped / noise', [
                _syn_tile(syn, i)
                for i in rng.sample(bad, min(per_row, len(bad)))]))
        scored = [i for i in mine if not np.isnan(syn.scores[i])]
        if scored:
            lowest = sorted(scored, key=lambda i: syn.scores[i])[:per_row]
            rows.append(('lowest scores', [_syn_tile(syn, i)
                                           for i in lowest]))
        title = (f'{c} {row["name"]}: {row["real"]} real, '
                 f'{row["synthetic"]} synthetic ({row["kept"]} kept; red: '
                 'dropped, orange: flagged as noise)')
        sheet = contact_sheet(title, rows, tile=TILE,
                              columns=max(per_row, 1))
        safe = re.sub(r'[^A-Za-z0-9_-]+', '_', str(row['name']))
        path = osp.join(folder, f'{c:04d}_{safe}.png')
        sheet.save(path)
        paths.append(path)
    return paths


def _num(value, digits: int = 3) -> str:
    return '-' if value is None else f'{value:.{digits}f}'


def fd_cell(m: dict, key: str, dims: int) -> str:
    """A Frechet distance (``key``: 'frechet' or 'frechet_pca') for a table:
    the value, and ``unreliable (n N <= d D)`` when the sets compared had no
    more images than ``dims``."""
    if m.get(key) is None:
        return '-'
    if m.get(f'{key}_reliable') is False:
        return f'{m[key]:.2f} unreliable (n {m["compared"]} <= d {dims})'
    return f'{m[key]:.2f}'


def fd_note(report: dict) -> str:
    """What the two Frechet distance columns mean, and which to read."""
    return (f'FD: Frechet distance in the {report["feature_dim"]}-d '
            'features, marked "unreliable (n <= d)" where the two sets '
            'compared have no more images (n) than dimensions (d): both '
            'covariances are singular and the number is mostly estimation '
            f'noise. FD, PCA d\'={report["pca_dims"]}: the same sets '
            f'projected onto the top {report["pca_dims"]} principal '
            'directions of the pooled real features (--pca-dims), reliable '
            'where n > d\'; read it for small classes (the pooled rows have '
            'images enough, but mix the classes: below). The mean over '
            'classes averages the reliable values only.')


def write_page(report: dict, out_dir: str) -> str:
    """``out_dir/index.html`` (module docstring); its path."""
    e = html.escape
    c = report['counts']
    summary = [
        ('manifest', report['manifest']),
        ('filter / score', f'{report["filter"]} / '
                           f'{report["score_meaning"] or "no score"}'),
        ('images', f'{c["real"]} real, {c["synthetic"]} synthetic, '
                   f'{c["kept"]} kept, {c["dropped"]} dropped, '
                   f'{c["flagged"]} flagged as noise'),
        ('encoder', f'{report["encoder_config"]} '
                    f'({report["encoder_checkpoint"]}), '
                    f'{report["feature_dim"]}-d features, agreement on the '
                    f'real images {report["real_agreement"]:.3f}'),
    ]
    overall = [('all classes pooled, kept', report['overall']['kept']),
               ('mean over classes, kept', report['class_mean'])]
    if 'all' in report['overall']:
        overall.insert(1, ('all classes pooled, all generated',
                           report['overall']['all']))
    parts = ['<!DOCTYPE html><html><head><meta charset="utf-8">',
             f'<title>Synthetic report: {e(report["manifest"])}</title>',
             '<style>body{font-family:sans-serif;margin:1em}'
             'table{border-collapse:collapse}td,th{border:1px solid #ccc;'
             'padding:2px 6px;font-size:13px;vertical-align:top}'
             'th{background:#eee}</style></head><body>',
             '<h1>Synthetic set quality</h1><table>']
    parts += [f'<tr><th>{e(k)}</th><td>{e(v)}</td></tr>' for k, v in summary]
    d, dp = report['feature_dim'], report['pca_dims']
    parts.append('</table><h2>Overall</h2><table><tr><th>set</th><th>n</th>'
                 f'<th>precision (k={report["k"]})</th><th>recall</th>'
                 f'<th>Frechet distance (d = {d})</th>'
                 f"<th>Frechet distance, PCA d' = {dp}</th>"
                 '<th>agreement</th></tr>')
    for name, m in overall:
        parts.append(f'<tr><td>{e(name)}</td>'
                     f'<td>{m.get("compared", "-")}</td>'
                     f'<td>{_num(m["precision"])}</td>'
                     f'<td>{_num(m["recall"])}</td>'
                     f'<td>{e(fd_cell(m, "frechet", d))}</td>'
                     f'<td>{e(fd_cell(m, "frechet_pca", dp))}</td>'
                     f'<td>{_num(m["agreement"])}</td></tr>')
    parts.append('</table><h2>Per class</h2><p>Metrics of the kept '
                 'synthetic images against the real images of the class '
                 '(precision, recall, Frechet distance on equal-size sets: '
                 'the larger cut to the smaller by a seeded draw); '
                 'agreement = share the encoder classifies as their label. '
                 'Sheet rows: real, kept synthetic, dropped (red) or '
                 'noise-flagged (orange), lowest scores.</p><p>'
                 f'{e(fd_note(report))}</p><table>'
                 '<tr><th>class</th><th>numbers</th><th>contact sheet</th>'
                 '</tr>')
    for r in report['classes']:
        m = r['kept_metrics']
        numbers = [
            ('real', r['real']), ('synthetic', r['synthetic']),
            ('kept', r['kept']), ('dropped', r['dropped']),
            ('flagged', r['flagged']),
            ('score kept mean', _num(r['score_kept']['mean'])),
            ('score kept min', _num(r['score_kept']['min'])),
            ('score dropped mean', _num(r['score_dropped']['mean'])),
            ('precision', _num(m['precision'])), ('recall',
                                                   _num(m['recall'])),
            ('n compared', m['compared']),
            ('Frechet distance', fd_cell(m, 'frechet', d)),
            ("Frechet distance, PCA d'", fd_cell(m, 'frechet_pca', dp)),
            ('agreement', _num(m['agreement'])),
            ('real agreement', _num(r['real_agreement']))]
        cell = '<br>'.join(f'{e(k)}: {e(str(v))}' for k, v in numbers)
        parts.append(f'<tr><td>{r["label"]} {e(str(r["name"]))}</td>'
                     f'<td>{cell}</td><td><img src="{e(r["sheet"])}" '
                     f'alt="contact sheet of {e(str(r["name"]))}"></td></tr>')
    parts.append('</table></body></html>')
    path = osp.join(out_dir, 'index.html')
    with open(path, 'w', encoding='utf-8') as f:
        f.write('\n'.join(parts) + '\n')
    return path
