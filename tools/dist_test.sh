#!/usr/bin/env bash
# Usage: tools/dist_train.sh CONFIG CHECKPOINT NUM_PROCESSES [test.py options]
# PyTorch DDP through mmengine's launcher (torchrun). NNODES, NODE_RANK,
# MASTER_ADDR and PORT are read from the environment for multi-node runs;
# PYTHON picks the interpreter (default: python on PATH).
set -e
CONFIG=$1
CHECKPOINT=$2
GPUS=$3
NNODES=${NNODES:-1}
NODE_RANK=${NODE_RANK:-0}
PORT=${PORT:-29500}
MASTER_ADDR=${MASTER_ADDR:-"127.0.0.1"}
cd "$(dirname "$0")/.."
"${PYTHON:-python}" -m torch.distributed.run \
    --nnodes="$NNODES" --node_rank="$NODE_RANK" --master_addr="$MASTER_ADDR" \
    --nproc_per_node="$GPUS" --master_port="$PORT" \
    tools/test.py "$CONFIG" "$CHECKPOINT" --launcher pytorch "${@:4}"
