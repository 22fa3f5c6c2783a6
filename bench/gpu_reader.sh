#!/usr/bin/env bash
# Train the reader on a GPU from a kit (bench/gpu_kit.py): start from the shipped reader, train on the kit's
# prepared examples for MINUTES (the learning rate decays to zero on that schedule), and write the weights
# to OUT in parts for `python bench/gpu_kit.py collect OUT TARGET` to put back together.
#
#     bash bench/gpu_reader.sh KIT OUT [MINUTES] [extra bench/train_reader.py options]
set -euo pipefail
if [ $# -lt 2 ]; then
    echo "usage: bash bench/gpu_reader.sh KIT OUT [MINUTES] [train_reader.py options]" >&2
    exit 2
fi
kit=$1 out=$2 minutes=${3:-6}
shift $(($# < 3 ? $# : 3))
rows=$(compgen -G "$kit/rows.jsonl*" | head -n 1 || true)
if [ -z "$rows" ] || [ ! -d "$kit/base" ]; then
    echo "$kit is not a kit: it needs rows.jsonl.xz (train_reader.py --write-rows) and base/ (gpu_kit.py pack)" >&2
    exit 2
fi
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
export PYTHONUNBUFFERED=1 TOKENIZERS_PARALLELISM=true HF_HUB_OFFLINE=1 TRANSFORMERS_OFFLINE=1
python3 bench/gpu_kit.py base "$kit" "$work/base"
python3 bench/train_reader.py --rows "$rows" --base "$work/base" --out "$work/run" --device auto \
    --batch 64 --lr 5e-5 --warmup 0.05 --max-len 256 --epochs 2 --minutes "$minutes" \
    --checkpoint-every 100000 "$@"
python3 bench/gpu_kit.py parts "$work/run/hf" "$out"
cp "$work/run/train.log" "$out/train.log"
