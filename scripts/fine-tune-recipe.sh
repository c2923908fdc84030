#!/usr/bin/env bash
# The fine-tuning recipe of train/README.md, measured on ISBI 2012 data: "the lab's data" are
# slices 0-14 of the training stack, of which 3 are labelled for fine-tuning (TRAIN), 2 more
# choose the checkpoint and the threshold (SELECT), and the other 10 only report (TEST). The
# parent model was trained on slices 15-26 (validation 27-29) and has never seen slices 0-14.
#
#   scripts/fine-tune-recipe.sh            # parent run in $PARENT_RUN, outputs in $OUT
#
# Steps: (0) train the parent if $PARENT_RUN has no model yet (long: hours on 2 cores; reuse a
# run with PARENT_RUN=...), (1) convert it to ONNX, (2) score it with the protocol (threshold
# chosen on SELECT, TEST reported), (3) fine-tune it on TRAIN with `--init`, timed (its log starts
# with the parent's validation at step 0), (4) convert (the card takes the threshold and pixel size
# the run chose) and (5) score the fine-tuned model the same way, then both side by side. Prints the
# before/after table. The outputs in $OUT are this script's to make: it replaces them (--force).
set -euo pipefail
cd "$(dirname "$0")/.."

PARENT_RUN=${PARENT_RUN:-runs/parent-15-29}
OUT=${OUT:-runs/fine-tune-recipe}
STEPS=${STEPS:-60}
TRAIN=0,7,14 SELECT=3,11 TEST=1-2,4-6,8-10,12-13
emseg() { echo "+ emseg $*" >&2; node bin/emseg.js "$@"; }
json() { node -e "const j = JSON.parse(require('fs').readFileSync(process.argv[1], 'utf8')); console.log($2)" "$1"; }
mkdir -p "$OUT"

if [ ! -f "$PARENT_RUN/model/model.json" ]; then
  resume=()
  [ -d "$PARENT_RUN/checkpoints/latest" ] && resume=(--resume)
  emseg train --train-slices 15-26 --validation-slices 27-29 --steps 500 --warmup-steps 25 --validate-every 100 --checkpoint-every 25 --pixel-size 4 --out "$PARENT_RUN" --quiet "${resume[@]}"
fi
[ -f "$OUT/parent.onnx" ] || emseg convert "$PARENT_RUN/model" -o "$OUT/parent.onnx" --quiet
emseg evaluate "$OUT/parent.onnx" --providers cpu --select-slices "$SELECT" --slices "$TEST" --json "$OUT/before.json" --force

rm -rf "$OUT/fine-tune"   # the fine-tune run is this script's own output: each run starts it afresh
start=$(date +%s)
emseg train --init "$OUT/parent.onnx" --train-slices "$TRAIN" --validation-slices "$SELECT" --steps "$STEPS" --validate-every 20 --checkpoint-every 10 --out "$OUT/fine-tune" --quiet
end=$(date +%s)
emseg convert "$OUT/fine-tune/model" -o "$OUT/fine-tuned.onnx" --quiet --force
emseg evaluate "$OUT/fine-tuned.onnx" --providers cpu --select-slices "$SELECT" --slices "$TEST" --json "$OUT/after.json" --force
# Both on the same slices, side by side (the same figures as the two runs above, in one table).
emseg evaluate "$OUT/parent.onnx" "$OUT/fine-tuned.onnx" --providers cpu --select-slices "$SELECT" --slices "$TEST" --json "$OUT/side-by-side.json" --force

row() { json "$1" "(() => { const r = j.rows.find((x) => x.variant === 'plain'); return [r.threshold, r.vRand.toFixed(4), r.vInfo.toFixed(4), r.pixelError.toFixed(4)].join(' | '); })()"; }
echo
echo "| model | threshold (chosen on $SELECT) | V_rand | V_info | pixel error |  (test slices $TEST)"
echo "| parent | $(row "$OUT/before.json") |"
echo "| fine-tuned, $STEPS steps on slices $TRAIN | $(row "$OUT/after.json") |"
echo "fine-tune wall time: $(( (end - start) / 60 )) min $(( (end - start) % 60 )) s; load: $(uptime | sed 's/.*load average/load average/')"
