#!/bin/sh
# The int8 variant of the default model for CPU serving, and the figures that decide whether it is
# kept (issue 15): `scripts/make-int8-model.sh [models/isbi2012-unet.onnx]`.
#   1. emseg quantize: QDQ int8, calibrated on the model card's training slices (default 0-22),
#      written beside the float model as <name>.int8.onnx and <name>.int8.json, checked by onnx's checker;
#   2. npm run bench:int8: fp32 vs int8 latency (onnxruntime-node cpu, 512x512, batch 1, alternating),
#      V_rand of both by emseg evaluate --ep cpu --slices 25-29, and the verdict line.
# Needs a build (npm run build) and data/isbi2012. Extra arguments go to emseg quantize. It makes the
# int8 files, so it replaces them (--force).
set -eu
model="${1:-models/isbi2012-unet.onnx}"
[ "$#" -gt 0 ] && shift
int8="${model%.onnx}.int8.onnx"
report="${model%.onnx}.int8.report.txt"
# Everything below is also written to $report (this script's output is the int8 model's record).
{
  echo "# Output of \`scripts/make-int8-model.sh $model\` ($(date -u '+%Y-%m-%d %H:%M UTC'); $(uname -m), $(nproc) cores, load average $(cut -d' ' -f1-3 /proc/loadavg))"
  echo
  node bin/emseg.js quantize "$model" -o "$int8" --check --force "$@" 2>&1
  npm run --silent bench:int8 -- --model "$model" --int8 "$int8" 2>&1
} | tee "$report.tmp"
mv "$report.tmp" "$report"
