#!/usr/bin/env bash
# Download into .whl/ (git-ignored) the wheels that a GPU machine with its own
# torch lacks, plus the CIFAR-10 (JPEG) archive, so that tools/gpu_check.sh
# can install them there without a package index. Run it on any networked
# machine; copy the repository with .whl/ to the GPU machine.
#   bash tools/fetch_gpu_wheels.sh                    # classifier training set
#   bash tools/fetch_gpu_wheels.sh --with-generation  # + diffusers, open_clip, openai
#   bash tools/fetch_gpu_wheels.sh --list [--with-generation]   # print, fetch nothing
#
# Target: CPython 3.12, manylinux x86_64, with torch (2.11 to 2.13),
# torchvision, numpy and, among others, matplotlib, rich, pyyaml, packaging,
# pillow, opencv-python-headless, einops, click, markdown, zipp, transformers,
# huggingface-hub, safetensors, timm, regex, requests, httpx, tqdm installed
# (GPU_HAS below): those are NOT fetched (one version of each package).
# Classifier training needs only the MM stack + kornia; the generation
# packages (diffusers, open_clip_torch, openai) are opt-in.
# tools/gpu_check.sh installs them all with
#   pip install --no-index --no-deps --target /tmp/site .whl/*.whl
set -euo pipefail
cd "$(dirname "$0")/.."

# name==version, the versions of the CPU venv (requirements.txt + their needs)
TRAIN_PKGS=(
  mmengine==0.10.7      # requirements.txt
  mmcv-lite==2.2.0      # requirements.txt
  mmpretrain==1.2.0     # requirements.txt
  kornia==0.9.0         # requirements.txt (batched views)
  kornia-rs==0.2.0      # kornia
  addict==2.4.0         # mmengine, mmcv-lite
  termcolor==3.3.0      # mmengine
  yapf==0.43.0          # mmengine, mmcv-lite
  platformdirs==4.14.8  # yapf
  mat4py==0.6.0         # mmpretrain
  modelindex==0.0.2     # mmpretrain
  model-index==0.1.11   # modelindex
  ordered-set==4.1.0    # model-index
  importlib-metadata==10.2.0  # mmpretrain, diffusers
  lazy-importer==0.1.0  # importlib-metadata
)
GEN_PKGS=(
  diffusers==0.42.1     # requirements.txt (text-to-image, DiffuLT DDPM)
  open_clip_torch==3.3.0  # requirements.txt (CLIP filter)
  ftfy==6.3.1           # open_clip_torch
  wcwidth==0.9.4       # ftfy
  openai==3.57.0         # requirements.txt (prompt planning)
  distro==1.9.0         # openai
  jiter==0.19.0         # openai
  sniffio==1.3.1        # openai
  pydantic==2.14.4      # openai
  pydantic-core==2.50.5 # pydantic
  annotated-types==0.8.0  # pydantic
  typing-inspection==0.4.5  # pydantic
)
# assumed preinstalled on the GPU machine, for the Requires-Dist check
GPU_HAS="torch torchvision numpy matplotlib rich pyyaml packaging pillow
opencv-python-headless einops click markdown zipp transformers huggingface-hub
safetensors timm regex requests httpx tqdm filelock typing-extensions anyio
setuptools fsspec jinja2 sympy networkx triton scipy protobuf tokenizers"
# needs that opencv-python-headless (preinstalled) satisfies: the same cv2
SATISFIED_ELSEWHERE="opencv-python"
LIMIT_MIB=60
DATA=../shared/data/cifar10-jpeg.tar.gz

list_only=0; with_gen=0
for a in "$@"; do
  case "$a" in
    --list) list_only=1 ;;
    --with-generation) with_gen=1 ;;
    -h|--help) sed -n 2,20p "$0"; exit 0 ;;
    *) echo "unknown option: $a" >&2; exit 2 ;;
  esac
done
PKGS=("${TRAIN_PKGS[@]}")
[ "$with_gen" = 1 ] && PKGS+=("${GEN_PKGS[@]}")

if [ "$list_only" = 1 ]; then
  printf '%s\n' "${PKGS[@]}"
  echo "data: $DATA"
  exit 0
fi

PY=${PYTHON:-.venv/bin/python}
[ -x "$PY" ] || PY=python3
mkdir -p .whl
PLAT=(--platform manylinux_2_28_x86_64 --platform manylinux_2_27_x86_64
      --platform manylinux_2_24_x86_64 --platform manylinux_2_17_x86_64
      --platform manylinux2014_x86_64 --platform manylinux1_x86_64)
for p in "${PKGS[@]}"; do
  name=${p%%==*}
  norm=$(echo "$name" | tr 'A-Z-' 'a-z_')
  if ls .whl/ 2>/dev/null | tr 'A-Z-' 'a-z_' | grep -q "^${norm}-${p##*==}-"; then
    continue  # already there
  fi
  if ! "$PY" -m pip download -q --no-deps --only-binary=:all: \
      --python-version 3.12 --implementation cp "${PLAT[@]}" -d .whl "$p"; then
    # pure-Python sdist only (no wheel on PyPI): build the wheel here
    echo "no wheel for $p on PyPI: building one from the sdist" >&2
    "$PY" -m pip wheel -q --no-deps --no-binary=:all: -w .whl "$p"
  fi
done
# remove wheels of packages no longer in the set (one version of each)
"$PY" - "${PKGS[@]}" <<'EOF'
import os, re, sys
want = {re.sub(r'[-_.]+', '_', p.split('==')[0]).lower(): p.split('==')[1]
        for p in sys.argv[1:]}
for f in sorted(os.listdir('.whl')):
    if not f.endswith('.whl'):
        continue
    name, ver = f.split('-')[:2]
    if want.get(name.lower()) != ver:
        print(f'removing {f} (not in the set)')
        os.remove(os.path.join('.whl', f))
EOF
# each non-extra Requires-Dist (Python 3.12, Linux): in .whl/ or preinstalled
GPU_HAS="$GPU_HAS $SATISFIED_ELSEWHERE" "$PY" - <<'EOF'
import os, re, sys, zipfile
from packaging.requirements import Requirement
norm = lambda n: re.sub(r'[-_.]+', '-', n).lower()
env = dict(python_version='3.12', python_full_version='3.12.3',
           sys_platform='linux', platform_system='Linux', os_name='posix',
           platform_machine='x86_64', implementation_name='cpython',
           platform_python_implementation='CPython', extra='')
wheels = [f for f in os.listdir('.whl') if f.endswith('.whl')]
have = {norm(f.split('-')[0]) for f in wheels}
have |= {norm(n) for n in os.environ['GPU_HAS'].split()}
missing = []
for f in sorted(wheels):
    with zipfile.ZipFile(os.path.join('.whl', f)) as z:
        meta = next(n for n in z.namelist()
                    if n.endswith('.dist-info/METADATA'))
        for line in z.read(meta).decode().splitlines():
            if not line.startswith('Requires-Dist:'):
                continue
            r = Requirement(line.split(':', 1)[1].strip())
            if r.marker is not None and not r.marker.evaluate(env):
                continue
            if norm(r.name) not in have:
                missing.append(f'{f}: {r}')
if missing:
    print('needs neither in .whl/ nor preinstalled:\n  ' + '\n  '.join(missing))
    sys.exit(1)
print(f'{len(wheels)} wheels, every requirement in .whl/ or preinstalled')
EOF
cp -f "$DATA" .whl/
ls -l .whl
total=$(du -cb .whl/* | tail -1 | cut -f1)
mib=$(awk -v b="$total" 'BEGIN { printf "%.1f", b / 1048576 }')
echo "total: $total bytes ($mib MiB) in .whl/ (limit $LIMIT_MIB MiB)"
if [ "$total" -gt $((LIMIT_MIB * 1048576)) ]; then
  echo "too big: .whl/ holds more than the $LIMIT_MIB MiB this script allows (LIMIT_MIB)" >&2
  exit 1
fi
