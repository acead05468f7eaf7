#!/usr/bin/env bash
# An unattended smoke test and benchmark for a GPU machine, within a time
# budget (--budget-s, default 530 s), with no network needed there:
#
#   bash tools/gpu_check.sh OUT_DIR [--cpu-dry-run] [--budget-s N]
#
# From the repository root, with the .whl/ folder that tools/fetch_gpu_wheels.sh
# made on a networked machine: installs .whl/*.whl into /tmp/site, unpacks
# .whl/cifar10-jpeg.tar.gz into data/ (when data/cifar10-jpeg is missing),
# prints nvidia-smi and versions, then
#   smoke_*   tools/train.py, 3 iterations each with --amp (bf16 autocast, no
#             loss scaling): CE classic and SAU classic on the CPU path and the
#             device path (*_device.py), SAU with an ORACLE complement
#             (tools/manifest_from_folder.py, the real images left out of the
#             LT subset; diagnosis only), GLAG stage 1; the DiffuLT generator
#             (3 iterations, --amp) and its sampler (--amp), and text-to-image
#             generation with a random tiny pipeline (fp16 on GPU), when
#             diffusers (and transformers) are installed, else skipped;
#   bench     tools/benchmark.py --suite device_path: CE classic, SAU classic,
#             SAU widened on the CPU path and the device path (and bf16):
#             samples/s, share of the bare compute, s/epoch, TFLOP/s, share of
#             the bf16 peak (bench.json);
#   ce_run_device, ce_run_cpu
#             as much of the 200-epoch CE classic run on CIFAR-10 (JPEG)-LT
#             IF=100 (--amp) as fits before the budget ends, first on the
#             device path, then on the CPU path (same config otherwise);
#             running the script again on the same machine resumes them.
# Every step's output goes to OUT_DIR/gpu_check.log; figures and per-step
# status to OUT_DIR/gpu_check.json.
#
# --cpu-dry-run: the same steps on CPU with tiny sizes (a 20-per-class copy of
# the data, IF=10, batch 8, 2 iterations, 1 epoch), no pip install, no AMP
# (bf16 autocast is slow on a CPU without bf16 instructions); for
# tests/test_gpu_check.py. It copies from $CIFAR10_JPEG_SRC when set (an
# unpacked cifar10-jpeg folder), else from data/cifar10-jpeg, unpacking
# ../shared/data/cifar10-jpeg.tar.gz there when it is missing.
set -uo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
START=$(date +%s)

OUT=${1:?usage: gpu_check.sh OUT_DIR [--cpu-dry-run] [--budget-s N]}
shift
DRY=0
BUDGET=530  # seconds for the whole script (9 minutes minus a margin)
BUDGET_SET=0
while [ $# -gt 0 ]; do
  case "$1" in
    --cpu-dry-run) DRY=1 ;;
    --budget-s) BUDGET=$2; BUDGET_SET=1; shift ;;
    *) echo "unknown option: $1" >&2; exit 2 ;;
  esac
  shift
done
# a dry run is a test of the steps: no budget unless one is given
[ "$DRY" = 1 ] && [ "$BUDGET_SET" = 0 ] && BUDGET=3600
mkdir -p "$OUT"
OUT=$(cd "$OUT" && pwd)
LOG=$OUT/gpu_check.log
STEPS=$OUT/steps.jsonl
: > "$LOG"; : > "$STEPS"
log() { echo "[gpu_check $(date +%T)] $*" | tee -a "$LOG"; }
left() { echo $((START + BUDGET - $(date +%s))); }

# step NAME TIMEOUT_S CMD...: run CMD under timeout, tee to the log, record
# status (ok / failed / timeout) and seconds in steps.jsonl
step() {
  local name=$1 limit=$2; shift 2
  local t0 rc status
  if [ "$limit" -le 5 ]; then
    log "step $name: skipped (no time left)"
    echo "{\"step\": \"$name\", \"status\": \"skipped\", \"seconds\": 0}" >> "$STEPS"
    return 1
  fi
  log "step $name (limit ${limit}s): $*"
  t0=$(date +%s)
  timeout -k 20 "$limit" "$@" 2>&1 | tee "$OUT/$name.log" >> "$LOG"
  rc=${PIPESTATUS[0]}
  case $rc in 0) status=ok ;; 124|137) status=timeout ;; *) status=failed ;; esac
  log "step $name: $status (rc $rc, $(( $(date +%s) - t0 ))s)"
  echo "{\"step\": \"$name\", \"status\": \"$status\", \"rc\": $rc, \"seconds\": $(( $(date +%s) - t0 ))}" >> "$STEPS"
  [ "$status" = ok ]
}

# ------------------------------------------------------------------ setup
if [ "$DRY" = 1 ]; then
  PY=${PYTHON:-$ROOT/.venv/bin/python}
  [ -x "$PY" ] || PY=python3
  export CUDA_VISIBLE_DEVICES=""
  DATA_SRC=${CIFAR10_JPEG_SRC:-$ROOT/data/cifar10-jpeg}
  if [ -n "${CIFAR10_JPEG_SRC:-}" ] && [ ! -d "$DATA_SRC/train" ]; then
    echo "gpu_check: CIFAR10_JPEG_SRC=$DATA_SRC has no train/ folder;" \
      "point it at an unpacked cifar10-jpeg folder or unset it" >&2
    exit 2
  elif [ ! -d "$DATA_SRC/train" ]; then
    mkdir -p "$ROOT/data"
    tar -xzf "$ROOT/../shared/data/cifar10-jpeg.tar.gz" -C "$ROOT/data"
  fi
  # a 20-per-class (train) / 10-per-class (test) copy of the real data
  DATA=$OUT/data/cifar10-jpeg
  for split in train test; do
    n=20; [ $split = test ] && n=10
    for d in "$DATA_SRC/$split"/*/; do
      c=$(basename "$d"); mkdir -p "$DATA/$split/$c"
      ls "$d" | sort | head -n $n | sed "s|^|$d|" | xargs -d '\n' cp -t "$DATA/$split/$c/"
    done
  done
  IF=10; BS=8; ITERS=2; WORKERS=1
  AMP=(); T2I_DTYPE=fp32; T2I_TARGET=6
  CACHE=$OUT/cache
  DDPM_SIZE="model = dict(unet=dict(block_out_channels=(16, 32), norm_num_groups=4, down_block_types=('DownBlock2D', 'AttnDownBlock2D'), up_block_types=('AttnUpBlock2D', 'UpBlock2D')))"
  CE_OPTS=(train_cfg.max_epochs=1 train_cfg.val_interval=1)
else
  PY=python3
  log "installing .whl/*.whl into /tmp/site"
  python3 -m pip install -q --no-index --no-deps --no-compile --no-cache-dir \
    --upgrade --target /tmp/site .whl/*.whl 2>&1 | tee -a "$LOG" || exit 1
  export PYTHONPATH=/tmp/site:$ROOT${PYTHONPATH:+:$PYTHONPATH}
  DATA=$ROOT/data/cifar10-jpeg
  if [ ! -d "$DATA/train" ]; then
    mkdir -p "$ROOT/data"
    tar -xzf .whl/cifar10-jpeg.tar.gz -C "$ROOT/data" || exit 1
  fi
  IF=100; BS=128; ITERS=3; WORKERS=8
  AMP=(--amp); T2I_DTYPE=fp16; T2I_TARGET=60
  CACHE=$ROOT/data/cache/decoded
  DDPM_SIZE=''
  CE_OPTS=(default_hooks.checkpoint.interval=5 train_cfg.val_interval=5)
fi
export PYTHONUNBUFFERED=1
log "dry run: $DRY, python: $PY, data: $DATA, budget ${BUDGET}s"
{ nvidia-smi || echo "nvidia-smi: not available"; } 2>&1 | tee -a "$LOG"
"$PY" - > "$OUT/versions.json" 2>>"$LOG" <<'EOF'
import json, platform
import sau_mm  # noqa: F401
import torch, torchvision, numpy, mmengine, mmcv, mmpretrain
v = dict(python=platform.python_version(), torch=torch.__version__,
         torchvision=torchvision.__version__, numpy=numpy.__version__,
         mmengine=mmengine.__version__, mmcv=mmcv.__version__,
         mmpretrain=mmpretrain.__version__, cuda=torch.version.cuda,
         device=torch.cuda.get_device_name() if torch.cuda.is_available()
         else 'cpu', bf16=torch.cuda.is_available()
         and torch.cuda.is_bf16_supported())
for name in ('kornia', 'diffusers', 'transformers'):  # optional ones
    try:
        v[name] = __import__(name).__version__
    except Exception as e:  # noqa: BLE001
        v[name] = f'unavailable: {e}'
print(json.dumps(v))
EOF
tee -a "$LOG" < "$OUT/versions.json"
# installed: PACKAGE... all importable (versions.json; no second import)
installed() {
  "$PY" -c 'import json, sys
v = json.load(open(sys.argv[1]))
sys.exit(any(str(v.get(p, "unavailable")).startswith("unavailable")
             for p in sys.argv[2:]))' "$OUT/versions.json" "$@" 2>/dev/null
}

# data options of every config (train dataset nested once for SAU)
data_opts() {  # $1: '' or 'dataset.' (the MixPartnerDataset's inner one)
  echo train_dataloader.dataset.${1}data_root=$DATA \
       train_dataloader.dataset.${1}imbalance_factor=$IF \
       val_dataloader.dataset.data_root=$DATA \
       test_dataloader.dataset.data_root=$DATA \
       train_dataloader.batch_size=$BS \
       train_dataloader.num_workers=$WORKERS \
       val_dataloader.num_workers=$WORKERS
}
CE=configs/baselines/resnet32_cifar10jpeg_lt/ce.py
CE_DEV=configs/baselines/resnet32_cifar10jpeg_lt/ce_device.py
SAU=configs/sau/resnet32_cifar10jpeg_lt.py
SAU_DEV=configs/sau/resnet32_cifar10jpeg_lt_device.py
SAU_CLASSIC=(model.backbone.base_channels=16 model.head.in_channels=64)
DDPM=configs/diffult/ddpm_small_cifar10jpeg_lt.py
GLAG=configs/glag/resnet32_cifar10jpeg_lt_stage1.py
ORACLE=$OUT/oracle/manifest.jsonl

# ------------------------------------------------------------------ (a) smoke
# the oracle complement: real training images outside the LT subset
if [ "$DRY" = 1 ]; then  # the tiny copy: every image (class names only)
  step oracle_manifest 120 "$PY" tools/manifest_from_folder.py "$DATA/train" \
    "$ORACLE" --source oracle --dataset-config $SAU \
    --cfg-options train_dataloader.dataset.dataset.data_root=$DATA
else
  step oracle_manifest 120 "$PY" tools/manifest_from_folder.py "$DATA/train" \
    "$ORACLE" --source oracle --dataset-config $SAU --exclude-lt-subset
fi

# an iteration-based wrapper config: ITERS iterations, validation at the end
smoke() {  # NAME CONFIG OPTS...
  local name=$1 cfg=$2; shift 2
  mkdir -p "$OUT/configs"
  cat > "$OUT/configs/$name.py" <<EOF
_base_ = '$ROOT/$cfg'
train_cfg = dict(_delete_=True, type='IterBasedTrainLoop', max_iters=$ITERS,
                 val_interval=$ITERS)
EOF
  step "smoke_$name" "$(( $(left) < 150 ? $(left) : 150 ))" \
    "$PY" tools/train.py "$OUT/configs/$name.py" "${AMP[@]}" \
    --work-dir "$OUT/work_dirs/smoke_$name" --cfg-options "$@"
}
smoke ce $CE $(data_opts '')
smoke ce_device $CE_DEV $(data_opts '') decoded_cache_dir="$CACHE"
smoke sau $SAU $(data_opts dataset.) "${SAU_CLASSIC[@]}" \
  train_dataloader.dataset.dataset.synthetic_manifest="$ORACLE"
smoke sau_device $SAU_DEV $(data_opts dataset.) "${SAU_CLASSIC[@]}" \
  train_dataloader.dataset.dataset.synthetic_manifest="$ORACLE" \
  decoded_cache_dir="$CACHE"
smoke glag_stage1 $GLAG $(data_opts '')

# generation: the DiffuLT generator and sampler; text-to-image (tiny, random)
skipped() {  # NAME WHY
  log "step $1: skipped ($2)"
  echo "{\"step\": \"$1\", \"status\": \"skipped\", \"why\": \"$2\", \"seconds\": 0}" >> "$STEPS"
}
if installed diffusers; then
  cat > "$OUT/configs/ddpm.py" <<EOF
_base_ = '$ROOT/$DDPM'
train_cfg = dict(max_iters=3)
$DDPM_SIZE
EOF
  step smoke_diffult_train "$(( $(left) < 150 ? $(left) : 150 ))" \
    "$PY" tools/train.py "$OUT/configs/ddpm.py" "${AMP[@]}" \
    --work-dir "$OUT/work_dirs/ddpm" --cfg-options \
    train_dataloader.dataset.data_root=$DATA \
    train_dataloader.dataset.imbalance_factor=$IF \
    train_dataloader.batch_size=$BS train_dataloader.num_workers=$WORKERS
  step smoke_diffult_sample "$(( $(left) < 120 ? $(left) : 120 ))" \
    "$PY" tools/diffult_sample.py "$OUT/configs/ddpm.py" \
    "$OUT/work_dirs/ddpm/iter_3.pth" --out-dir "$OUT/diffult" \
    --per-class 2 --steps 5 --batch-size $BS "${AMP[@]}" --cfg-options \
    train_dataloader.dataset.data_root=$DATA \
    train_dataloader.dataset.imbalance_factor=$IF
else
  skipped smoke_diffult_train 'diffusers not installed'
  skipped smoke_diffult_sample 'diffusers not installed'
fi
if installed diffusers transformers; then
  # a random tiny StableDiffusion pipeline (tests/support/generation.py),
  # then the plan / prompts / generate stages of tools/generate_synthetic.py
  t2i_smoke() {  # one process: the tiny pipeline, then plan/prompts/generate
    PYTHONPATH=$ROOT${PYTHONPATH:+:$PYTHONPATH} "$PY" - "$T2I" <<PYEOF
import sys
import sau_mm  # noqa: F401
from tests.support.generation import make_tiny_pipeline
from sau_mm.generation.text2image.cli import main
out = sys.argv[1] + '/out'
pipe = make_tiny_pipeline(sys.argv[1])
for argv in (
        ['plan', '$CE', '--out-dir', out, '--target-count', '$T2I_TARGET',
         '--cfg-options', 'train_dataloader.dataset.data_root=$DATA',
         'train_dataloader.dataset.imbalance_factor=$IF'],
        ['prompts', '--out-dir', out],
        ['generate', '--out-dir', out, '--pipeline-dir', pipe, '--steps', '3',
         '--batch-size', '8', '--dtype', '$T2I_DTYPE']):
    if main(argv):
        sys.exit(f'generate_synthetic.py {argv[0]} failed')
PYEOF
  }
  export -f t2i_smoke
  export T2I=$OUT/t2i PY ROOT CE DATA IF T2I_DTYPE T2I_TARGET
  step smoke_t2i_generate "$(( $(left) < 150 ? $(left) : 150 ))" \
    bash -c t2i_smoke
else
  skipped smoke_t2i_generate 'diffusers/transformers not installed'
fi

# ------------------------------------------------------------------ (b) bench
if [ "$DRY" = 1 ]; then
  BENCH=(--iters 1 --warmup 0 --rounds 1 --cases 'ce_classic/cpu_path' \
         'ce_classic/device_path')
else
  BENCH=(--iters 30 --warmup 5 --rounds 1)
fi
step bench "$(( $(left) < 240 ? $(left) : 240 ))" \
  "$PY" tools/benchmark.py --suite device_path --sau-manifest "$ORACLE" \
  --data-root "$DATA" --imbalance-factor $IF "${BENCH[@]}" \
  --json "$OUT/bench.json" --cfg-options train_dataloader.batch_size=$BS \
  train_dataloader.num_workers=$WORKERS decoded_cache_dir="$CACHE"

# ------------------------------------------------------------------ (c) CE run
# device path first (6/10 of what is left), then the CPU path; each resumes
ce_run() {  # NAME CONFIG LIMIT_S
  local dir=$WORK/gpu_check_$1 resume=()
  [ -f "$dir/last_checkpoint" ] && resume=(--resume)
  step "$1" "$3" "$PY" tools/train.py "$2" "${AMP[@]}" "${resume[@]}" \
    --work-dir "$dir" --cfg-options $(data_opts '') "${CE_OPTS[@]}" \
    decoded_cache_dir="$CACHE"
  # a timeout is expected (a rerun of the script continues it): not a failure
  sed -i "s/{\"step\": \"$1\", \"status\": \"timeout\"/{\"step\": \"$1\", \"status\": \"ok\", \"stopped\": \"time budget\"/" "$STEPS"
}
WORK=$ROOT/work_dirs
[ "$DRY" = 1 ] && WORK=$OUT/work_dirs
ce_run ce_run_device $CE_DEV "$(( ($(left) - 40) * 6 / 10 ))"
ce_run ce_run_cpu $CE "$(( $(left) - 30 ))"

# ------------------------------------------------------------------ summary
"$PY" - "$OUT" "$WORK" "$DRY" "$(( $(date +%s) - START ))" <<'EOF' | tee -a "$LOG"
import glob, json, os, re, sys
out, work, dry, total = sys.argv[1], sys.argv[2], sys.argv[3] == '1', int(sys.argv[4])
steps = {}
for line in open(os.path.join(out, 'steps.jsonl')):
    s = json.loads(line)
    steps[s.pop('step')] = s
def read(name):
    p = os.path.join(out, name + '.log')
    return open(p, errors='replace').read() if os.path.exists(p) else ''
bench = os.path.join(out, 'bench.json')
if 'bench' in steps and os.path.exists(bench):
    keep = ('samples_per_s', 'bare_samples_per_s', 'ratio_to_bare',
            's_per_epoch', 'flop_per_sample', 'tflop_per_s',
            'bf16_peak_share', 'peak_mem_mib', 'epoch_hooks_s', 'batch_size')
    steps['bench']['cases'] = {c['name']: {k: c[k] for k in keep if k in c}
                               for c in json.load(open(bench))}
for name in [n for n in steps if n.startswith('smoke_')]:
    losses = re.findall(r'loss: ([\d.naninf]+)', read(name))
    if losses:
        steps[name]['last_loss'] = losses[-1]
def ce_run(name):
    ce_dir = os.path.join(work, 'gpu_check_' + name)
    ce = dict(work_dir=ce_dir, epochs_done=0, max_epochs=None)
    top1 = []
    for f in sorted(glob.glob(os.path.join(ce_dir, '*', 'vis_data',
                                           'scalars.json'))):
        for line in open(f):  # one file per (re)start, in time order
            r = json.loads(line)
            if 'lt/top1' in r:
                top1.append((r['step'], r['lt/top1']))
            if 'epoch' in r:
                ce['epochs_done'] = max(ce['epochs_done'], r['epoch'])
    lc = os.path.join(ce_dir, 'last_checkpoint')
    if os.path.exists(lc):
        m = re.search(r'epoch_(\d+)\.pth', open(lc).read())
        ce['last_checkpoint_epoch'] = int(m.group(1)) if m else None
    m = re.findall(r'max_epochs=(\d+)', read(name))
    ce['max_epochs'] = int(m[-1]) if m else None
    t = re.findall(r'Epoch\(train\)\s+\[(\d+)\]\[\s*(\d+)/(\d+)\].*?time: ([\d.]+)',
                   read(name))
    if t:
        ce['s_per_iter_last'] = float(t[-1][3])
        ce['s_per_epoch_train'] = float(t[-1][3]) * int(t[-1][2])
    if top1:
        ce['last_top1'], ce['last_top1_epoch'] = top1[-1][1], top1[-1][0]
        best = max(top1, key=lambda t: t[1])
        ce['best_top1'], ce['best_top1_epoch'] = best[1], best[0]
    ce['note'] = ('CIFAR-10 (JPEG)-LT, classic ResNet-32, CE' + (
        ' (dry run: 20-per-class copy, IF=10, 1 epoch)' if dry else
        ', IF=100, bf16 autocast') +
        '; paper real-only CE on original CIFAR-10: 70.14')
    return ce
versions = json.load(open(os.path.join(out, 'versions.json'))) \
    if os.path.getsize(os.path.join(out, 'versions.json')) else {}
summary = dict(dry_run=dry, device=versions.get('device'), versions=versions,
               total_seconds=total, steps=steps,
               ce_run_device=ce_run('ce_run_device'),
               ce_run_cpu=ce_run('ce_run_cpu'),
               all_ok=all(s['status'] in ('ok', 'skipped')
                          for s in steps.values()))
json.dump(summary, open(os.path.join(out, 'gpu_check.json'), 'w'), indent=1)
print(json.dumps(summary, indent=1))
EOF
log "done in $(( $(date +%s) - START ))s; summary in $OUT/gpu_check.json"
