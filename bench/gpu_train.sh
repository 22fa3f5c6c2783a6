#!/usr/bin/env bash
# Train on a GPU from a kit (bench/gpu_kit.py) and write the weights to OUT in parts, for
# `python bench/gpu_kit.py collect OUT TARGET` to put back together here.
#
#     bash bench/gpu_train.sh reader  KIT OUT [MINUTES] [extra bench/train_reader.py options]
#     bash bench/gpu_train.sh encoder KIT OUT [MINUTES] [extra bench/train_encoder.py options]
#
# reader: from the shipped reader, on KIT/rows.jsonl.xz (train_reader.py --write-rows).
# encoder: both sides of the embedding model, from the base model, on KIT/pairs.json.xz
# (train_encoder.py --both-sides --write-rows; the kit packed with --whole).
# Each trains for two passes or MINUTES (default 5), whichever ends first, the learning rate decaying to
# zero by then.
set -euo pipefail
usage="usage: bash bench/gpu_train.sh reader|encoder KIT OUT [MINUTES] [training options]"
if [ $# -lt 3 ]; then
    echo "$usage" >&2
    exit 2
fi
what=$1 kit=$2 out=$3 minutes=${4:-5}
shift $(($# < 4 ? $# : 4))
case $what in
reader) data=$kit/rows.jsonl.xz needs=$kit/base/packed.safetensors ;;
encoder) data=$kit/pairs.json.xz needs=$kit/base/modules.json ;;
*)
    echo "$usage" >&2
    exit 2
    ;;
esac
if [ ! -f "$data" ] || [ ! -f "$needs" ]; then
    echo "$kit is not a kit for the $what: it needs $data (bench/train_$what.py --write-rows) and $needs" \
        "(bench/gpu_kit.py pack$([ "$what" = encoder ] && echo ' --whole'))" >&2
    exit 2
fi
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
export PYTHONUNBUFFERED=1 TOKENIZERS_PARALLELISM=true HF_HUB_OFFLINE=1 TRANSFORMERS_OFFLINE=1
if [ "$what" = reader ]; then
    python3 bench/gpu_kit.py base "$kit" "$work/base"
    python3 bench/train_reader.py --rows "$data" --base "$work/base" --out "$work/run" --device auto \
        --batch 64 --lr 5e-5 --warmup 0.05 --max-len 256 --epochs 2 --minutes "$minutes" \
        --checkpoint-every 100000 "$@"
    trained=$work/run/hf
    cp "$work/run/train.log" "$work/log"
else
    python3 bench/gpu_kit.py base "$kit" "$work/base" --whole
    python3 bench/train_encoder.py --both-sides --rows "$data" --base "$work/base" --out "$work/run" \
        --device auto --batch 128 --lr 5e-5 --epochs 2 --minutes "$minutes" --save-every 100000 "$@" |
        tee "$work/log"
    trained=$work/run/model
fi
python3 bench/gpu_kit.py parts "$trained" "$out"
cp "$work/log" "$out/train.log"
