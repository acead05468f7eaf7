"""The install instructions and the documentation links stay true: the
README's install line for a GPU machine with its own torch lists exactly the
pins of requirements.txt (torch and torchvision aside), torch is pinned to a
version the public package index serves, and every ``docs/*.md#anchor`` and
Markdown link in the repository names a heading that exists."""
import os
import os.path as osp
import re
import shlex

import pytest

ROOT = osp.dirname(osp.dirname(osp.abspath(__file__)))
README = osp.join(ROOT, 'README.md')
DOCS = osp.join(ROOT, 'docs')
# The GPU machine's own build; everything else is installed by the line.
OWN_TORCH = ('torch', 'torchvision')
GPU_LINE_MARK = 'pip install --no-deps -e .'


def requirements():
    """{name: 'name<spec>'} of requirements.txt, comments and spaces
    removed."""
    reqs = {}
    with open(osp.join(ROOT, 'requirements.txt')) as f:
        for line in f:
            line = line.split('#', 1)[0].strip().replace(' ', '')
            if line:
                name = re.match(r'[A-Za-z0-9_.-]+', line).group(0)
                reqs[name.lower()] = line
    return reqs


def gpu_install_line(text):
    lines = [ln for ln in text.splitlines() if GPU_LINE_MARK in ln]
    assert len(lines) == 1, (
        f'README.md must have exactly one line with "{GPU_LINE_MARK}" (the '
        f'install on a GPU machine with its own torch); found {len(lines)}.')
    return lines[0]


def packages_installed_by(line):
    """The arguments of the line's ``pip install`` that is not --no-deps."""
    installs = []
    for command in line.split('&&'):
        args = shlex.split(command)
        if args[:2] == ['pip', 'install'] and '--no-deps' not in args:
            installs.append([a.replace(' ', '') for a in args[2:]])
    assert len(installs) == 1, f'expected one "pip install PKG..." in {line!r}'
    return installs[0]


def test_gpu_install_line_is_requirements_txt_without_torch():
    reqs = requirements()
    assert set(OWN_TORCH) <= set(reqs)
    expected = sorted(v for k, v in reqs.items() if k not in OWN_TORCH)
    with open(README) as f:
        installed = packages_installed_by(gpu_install_line(f.read()))
    assert sorted(installed) == expected, (
        'README.md\'s GPU install line and requirements.txt differ: missing '
        f'{sorted(set(expected) - set(installed))}, extra '
        f'{sorted(set(installed) - set(expected))}.')


def test_packages_installed_by_parses_quotes_and_skips_the_no_deps_part():
    line = ('pip install --no-deps -e . && pip install a==1 "b>=2,<3" '
            "'c < 4'")
    assert packages_installed_by(line) == ['a==1', 'b>=2,<3', 'c<4']
    with pytest.raises(AssertionError, match='exactly one line'):
        gpu_install_line('no install line here')


def test_torch_is_pinned_to_a_public_version():
    # A local version label (2.13.0+cpu) exists only on PyTorch's own wheel
    # index; the plain version also matches a local +cpu wheel where pip has
    # one.
    reqs = requirements()
    for name in OWN_TORCH:
        assert re.fullmatch(rf'{name}==\d+(\.\d+)*', reqs[name]), reqs[name]


# ------------------------------------------------------------- doc links
def github_slug(heading):
    """GitHub's anchor of a Markdown heading: inline-code marks dropped,
    lower case, every character but letters, digits, spaces, '-' and '_'
    removed, spaces turned into '-'."""
    text = heading.strip().replace('`', '').lower()
    text = re.sub(r'[^\w\- ]', '', text)
    return text.replace(' ', '-')


def anchors(path):
    """The anchors of a Markdown file's headings (fenced code skipped;
    repeated headings get -1, -2, ... as on GitHub)."""
    seen, out, fenced = {}, set(), False
    with open(path) as f:
        for line in f:
            if line.lstrip().startswith('```'):
                fenced = not fenced
                continue
            m = re.match(r'#{1,6}\s+(.*)', line)
            if m and not fenced:
                slug = github_slug(m.group(1))
                n = seen.get(slug, 0)
                seen[slug] = n + 1
                out.add(slug if n == 0 else f'{slug}-{n}')
    return out


def test_github_slug_matches_githubs_rules():
    assert github_slug("GLAG: this project's formulas") == \
        'glag-this-projects-formulas'
    assert github_slug('Device data path (`*_device.py`)') == \
        'device-data-path-_devicepy'
    assert github_slug('Label correction (Eq. 9)') == 'label-correction-eq-9'


SKIP_DIRS = {'.git', '.venv', 'data', 'work_dirs', '.whl', '__pycache__',
             'results'}


def repository_texts():
    for folder, dirs, files in os.walk(ROOT):
        dirs[:] = [d for d in dirs if d not in SKIP_DIRS]
        for name in files:
            if name.endswith(('.py', '.md', '.txt', '.sh')):
                yield osp.join(folder, name)


def test_every_docs_anchor_in_the_repository_exists():
    known = {f: anchors(osp.join(DOCS, f)) for f in os.listdir(DOCS)
             if f.endswith('.md')}
    refs = 0
    bad = []
    for path in repository_texts():
        with open(path, errors='replace') as f:
            text = f.read()
        for doc, anchor in re.findall(r'docs/([\w-]+\.md)#([\w-]+)', text):
            refs += 1
            if doc not in known or anchor not in known[doc]:
                bad.append(f'{osp.relpath(path, ROOT)}: docs/{doc}#{anchor}')
    assert refs > 20  # the code, configs and tests cite docs/method.md
    assert not bad, 'anchors that name no heading:\n' + '\n'.join(bad)


@pytest.mark.parametrize('page', ['README.md'] + sorted(
    osp.join('docs', f) for f in os.listdir(DOCS) if f.endswith('.md')))
def test_markdown_links_between_pages_resolve(page):
    path = osp.join(ROOT, page)
    with open(path) as f:
        text = f.read()
    bad = []
    for target in re.findall(r'\]\(([^)\s]+)\)', text):
        if re.match(r'[a-z]+://', target):
            continue
        file_part, _, anchor = target.partition('#')
        linked = (osp.normpath(osp.join(osp.dirname(path), file_part))
                  if file_part else path)
        if not osp.exists(linked):
            bad.append(f'{target}: no file {osp.relpath(linked, ROOT)}')
        elif anchor and anchor not in anchors(linked):
            bad.append(f'{target}: no heading with that anchor')
    assert not bad, f'{page}:\n' + '\n'.join(bad)
