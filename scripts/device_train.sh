#!/usr/bin/env bash
# One call on a lent GPU machine (the device tool, DEVELOPERS.md): fine-tune the shipped twin
# with a share of real detections, score it there on held-out S8, bring back the checkpoint.
# Nothing depends on it: every stage also runs on a CPU, slower (scripts/reproduce_weights.sh).
#
# Here, once per session:  python scripts/device_data.py pack   (.device-data/, 27 MB, ignored)
# Then the device tool:    run  command="bash scripts/device_train.sh"  carry=[".device-data"]
#                               timeout_s=600
# Back under $OUT: best.pt (its meta has every setting), log.csv, curve.png, train.log,
# eval_det.json and eval_gt.json (hot-pose eval --json on S8: detections, ground-truth 2D).
# Settings from the environment: EPOCHS (8), DETECTIONS (0.25), LR (1e-4), SEED (91),
# BATCH (64), CLIP_STRIDE (10), WORKERS (7), MAX_STEPS (none); TRAIN_SECONDS (400) and
# EVAL_SECONDS (75 each) stop a stage that runs long, keeping what it saved.
# Stage 13 (batch 64, clip stride 10, 7 workers) took 32 s an epoch on a lent H100.
set -uo pipefail
OUT=${OUT:-runs/device}
DATA=/tmp/h36m
RUN=/tmp/device_run
mkdir -p "$OUT"
export PYTHONPATH=$PWD PYTHONUNBUFFERED=1
python3 scripts/device_data.py unpack --out "$DATA" || exit 1
nvidia-smi --query-gpu=name,memory.total --format=csv,noheader 2>/dev/null

on_h36m=(--data "$DATA/h36m_3d.npz" --cameras "$DATA/cameras.json")
detections=(--keypoints-2d "$DATA/h36m_sh2d.npz" --layout mpii16)
timeout "${TRAIN_SECONDS:-400}" python3 -m hotcli.cli.main train --config hot_mixste_xs \
    --init hot_mixste_xs_h36m_without_s8 "${on_h36m[@]}" "${detections[@]}" \
    --detections "${DETECTIONS:-0.25}" --epochs "${EPOCHS:-8}" --batch "${BATCH:-64}" \
    --lr "${LR:-1e-4}" --warmup 100 --clip-stride "${CLIP_STRIDE:-10}" \
    --workers "${WORKERS:-7}" --virtual-cameras 0.1 --bone-scale 0.1 --seed "${SEED:-91}" \
    --precision bf16 ${MAX_STEPS:+--max-steps "$MAX_STEPS"} --quiet --out "$RUN" \
    2>&1 | tee "$OUT/train.log"
cp "$RUN/best.pt" "$RUN/log.csv" "$RUN/curve.png" "$OUT/" || exit 1

for input in det gt; do
    extra=()
    [ "$input" = det ] && extra=("${detections[@]}")
    timeout "${EVAL_SECONDS:-75}" python3 -m hotcli.cli.main eval "${on_h36m[@]}" "${extra[@]}" \
        --subjects S8 --weights "$RUN/best.pt" --world --quiet --json "$OUT/eval_$input.json" \
        || echo "eval on $input: stopped or failed (exit $?)"
done
ls -la "$OUT"
