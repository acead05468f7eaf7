#!/usr/bin/env bash
# One unattended GPU check, at most ~9 minutes on a fresh GPU machine:
#
#   bash tools/gpu_check.sh OUT_DIR [--cpu-dry-run] [--budget-s N]
#
# On the GPU machine (run from the repository root with .whl/ carried, made by
# tools/fetch_gpu_wheels.sh): installs .whl/*.whl into /tmp/site, unpacks
# .whl/cifar10-jpeg.tar.gz into data/, prints nvidia-smi and versions, then
#   smoke_*   tools/train.py, 3 iterations each with bf16 AMP (--amp +
#             optim_wrapper.dtype=bfloat16): CE classic, SAU classic with an
#             ORACLE complement (tools/manifest_from_folder.py, the real images
#             left out of the LT subset; diagnosis only), GLAG stage 1;
#   bench_*   tools/benchmark.py on CE and SAU (bf16 AMP), samples/s;
#   ce_run    as much of the 200-epoch CE classic run on CIFAR-10 (JPEG)-LT
#             IF=100 (--amp, bf16) as fits before the budget ends; running the
#             script again on the same machine resumes it (--resume).
# Every step's output goes to OUT_DIR/gpu_check.log; figures and per-step
# status to OUT_DIR/gpu_check.json.
#
# --cpu-dry-run: the same steps on CPU with tiny sizes (a 20-per-class copy of
# the data, IF=10, batch 8, 2 iterations, 2 epochs), no pip install, no AMP
# (mmengine refuses AMP on CPU); for tests/test_gpu_check.py.
set -uo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
START=$(date +%s)

OUT=${1:?usage: gpu_check.sh OUT_DIR [--cpu-dry-run] [--budget-s N]}
shift
DRY=0
BUDGET=530  # seconds for the whole script (9 minutes minus a margin)
while [ $# -gt 0 ]; do
  case "$1" in
    --cpu-dry-run) DRY=1 ;;
    --budget-s) BUDGET=$2; shift ;;
    *) echo "unknown option: $1" >&2; exit 2 ;;
  esac
  shift
done
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
  DATA_SRC=$ROOT/data/cifar10-jpeg
  if [ ! -d "$DATA_SRC/train" ]; then
    mkdir -p "$ROOT/data"
    tar -xzf "$ROOT/../shared/data/cifar10-jpeg.tar.gz" -C "$ROOT/data"
  fi
  # a 20-per-class (train) / 10-per-class (test) copy of the real data
  DATA=$OUT/data/cifar10-jpeg
  for split in train test; do
    n=20; [ $split = test ] && n=10
    for d in "$DATA_SRC/$split"/*/; do
      c=$(basename "$d"); mkdir -p "$DATA/$split/$c"
      ls "$d" | sort | head -n $n | while read -r f; do cp "$d/$f" "$DATA/$split/$c/"; done
    done
  done
  IF=10; BS=8; ITERS=2; WORKERS=1
  AMP=(); AMP_OPTS=()
  CE_OPTS=(train_cfg.max_epochs=2 train_cfg.val_interval=1)
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
  AMP=(--amp); AMP_OPTS=(optim_wrapper.dtype=bfloat16)
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
try:
    import kornia; v['kornia'] = kornia.__version__
except Exception as e:  # noqa: BLE001
    v['kornia'] = f'unavailable: {e}'
print(json.dumps(v))
EOF
tee -a "$LOG" < "$OUT/versions.json"

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
SAU=configs/sau/resnet32_cifar10jpeg_lt.py
GLAG=configs/glag/resnet32_cifar10jpeg_lt_stage1.py
ORACLE=$OUT/oracle/manifest.jsonl

# ------------------------------------------------------------------ (a) smoke
# the oracle complement: real training images outside the LT subset
if [ "$DRY" = 1 ]; then  # the tiny copy: every image (class names only)
  step oracle_manifest 120 "$PY" tools/manifest_from_folder.py "$DATA/train" \
    "$ORACLE" --source oracle --dataset-config $SAU
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
    --work-dir "$OUT/work_dirs/smoke_$name" --cfg-options "$@" "${AMP_OPTS[@]}"
}
smoke ce $CE $(data_opts '')
smoke sau $SAU $(data_opts dataset.) \
  train_dataloader.dataset.dataset.synthetic_manifest="$ORACLE"
smoke glag_stage1 $GLAG $(data_opts '')

# ------------------------------------------------------------------ (b) bench
if [ "$DRY" = 1 ]; then
  BENCH=(--iters 2 --warmup 1 --rounds 1); BENCH_AMP=()
else
  BENCH=(--iters 30 --warmup 5 --rounds 1)
  BENCH_AMP=(optim_wrapper.type=AmpOptimWrapper optim_wrapper.dtype=bfloat16)
fi
step bench_ce "$(( $(left) < 120 ? $(left) : 120 ))" \
  "$PY" tools/benchmark.py $CE "${BENCH[@]}" \
  --cfg-options $(data_opts '') "${BENCH_AMP[@]}"
step bench_sau "$(( $(left) < 150 ? $(left) : 150 ))" \
  "$PY" tools/benchmark.py $SAU "${BENCH[@]}" \
  --cfg-options $(data_opts dataset.) \
  train_dataloader.dataset.dataset.synthetic_manifest="$ORACLE" "${BENCH_AMP[@]}"

# ------------------------------------------------------------------ (c) CE run
CE_DIR=$ROOT/work_dirs/gpu_check_ce
[ "$DRY" = 1 ] && CE_DIR=$OUT/work_dirs/gpu_check_ce
RESUME=()
[ -f "$CE_DIR/last_checkpoint" ] && RESUME=(--resume)
step ce_run "$(( $(left) - 30 ))" \
  "$PY" tools/train.py $CE "${AMP[@]}" "${RESUME[@]}" --work-dir "$CE_DIR" \
  --cfg-options $(data_opts '') "${CE_OPTS[@]}" "${AMP_OPTS[@]}"
# a timeout here is expected (the run goes on at the next call): not a failure
sed -i 's/{"step": "ce_run", "status": "timeout"/{"step": "ce_run", "status": "ok", "stopped": "time budget"/' "$STEPS"

# ------------------------------------------------------------------ summary
"$PY" - "$OUT" "$CE_DIR" "$DRY" "$(( $(date +%s) - START ))" <<'EOF' | tee -a "$LOG"
import glob, json, os, re, sys
out, ce_dir, dry, total = sys.argv[1], sys.argv[2], sys.argv[3] == '1', int(sys.argv[4])
steps = {}
for line in open(os.path.join(out, 'steps.jsonl')):
    s = json.loads(line)
    steps[s.pop('step')] = s
def read(name):
    p = os.path.join(out, name + '.log')
    return open(p, errors='replace').read() if os.path.exists(p) else ''
for name in ('bench_ce', 'bench_sau'):
    if name in steps:
        m = re.findall(r'^(\S+\.py)\s+([\d.]+)\s+[\d.]+\s+(\d+)\s+([\d.]+)',
                       read(name), re.M)
        if m:
            steps[name].update(samples_per_s=float(m[-1][1]),
                               peak_mem_mib=int(m[-1][2]),
                               epoch_hooks_s=float(m[-1][3]))
for name in [n for n in steps if n.startswith('smoke_')]:
    losses = re.findall(r'loss: ([\d.naninf]+)', read(name))
    if losses:
        steps[name]['last_loss'] = losses[-1]
ce = dict(work_dir=ce_dir, epochs_done=0, max_epochs=None)
vis = sorted(glob.glob(os.path.join(ce_dir, '*', 'vis_data', 'scalars.json')))
top1 = []
for f in vis:  # one per (re)start, in time order
    for line in open(f):
        r = json.loads(line)
        if 'lt/top1' in r:
            top1.append((r['step'], r['lt/top1']))
        if 'epoch' in r:
            ce['epochs_done'] = max(ce['epochs_done'], r['epoch'])
lc = os.path.join(ce_dir, 'last_checkpoint')
if os.path.exists(lc):
    m = re.search(r'epoch_(\d+)\.pth', open(lc).read())
    ce['last_checkpoint_epoch'] = int(m.group(1)) if m else None
m = re.findall(r'max_epochs=(\d+)', read('ce_run'))
ce['max_epochs'] = int(m[-1]) if m else None
if top1:
    ce['last_top1'], ce['last_top1_epoch'] = top1[-1][1], top1[-1][0]
    best = max(top1, key=lambda t: t[1])
    ce['best_top1'], ce['best_top1_epoch'] = best[1], best[0]
ce['note'] = ('CIFAR-10 (JPEG)-LT, classic ResNet-32, CE' + (
    ' (dry run: 20-per-class copy, IF=10, 2 epochs)' if dry else
    ', IF=100') + '; paper real-only CE on original CIFAR-10: 70.14')
versions = json.load(open(os.path.join(out, 'versions.json'))) \
    if os.path.getsize(os.path.join(out, 'versions.json')) else {}
summary = dict(dry_run=dry, device=versions.get('device'), versions=versions,
               total_seconds=total, steps=steps, ce_run=ce,
               all_ok=all(s['status'] == 'ok' for s in steps.values()))
json.dump(summary, open(os.path.join(out, 'gpu_check.json'), 'w'), indent=1)
print(json.dumps(summary, indent=1))
EOF
log "done in $(( $(date +%s) - START ))s; summary in $OUT/gpu_check.json"
