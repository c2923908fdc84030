#!/usr/bin/env bash
# Makes the shipped default model from scratch with the project's own commands:
#   models/isbi2012-unet.onnx           the model (the card inside, in metadata_props)
#   models/isbi2012-unet.json           its model card
#   models/isbi2012-unet.train-config.json, .train.log.jsonl   the last training cycle's config and log
#   models/isbi2012-unet.cycle1.train-config.json, .cycle1.train.log.jsonl, and .cycle2.*
#                                       the earlier cycles' (step 1)
#   models/isbi2012-unet.metrics.json   emseg evaluate's figures (plain and 8-fold TTA): test slices
#                                       27-29 at the threshold chosen on the selection slices 23-26,
#                                       and the shift suite (core/shift-suite.ts) on both
#   models/isbi2012-unet.cells.json     npm run bench:seeds' measurement (bench/seed-rule.ts): the
#                                       cell parameters (seed rule, thresholds, size filters of
#                                       --output labels) chosen on the selection slices 23-26 with
#                                       the draft model, test slices 27-29 scored once; its `cells`
#                                       field is the card's `cells` section
#   models/isbi2012-unet.report.md      the evaluation report (+ .validation.png, .test.png, .curve.svg)
#
# Training takes hours on a 2-core CPU. The script can be stopped at any time and run again:
# training resumes from its latest checkpoint in the cycle's run folder ($RUN, $RUN-stage2,
# $RUN-stage3; default RUN=runs/isbi2012-unet), and the steps after training are quick (minutes).
# Usage: scripts/make-default-model.sh
# The files above are this script's to make: its commands replace them (--force).
set -euo pipefail
cd "$(dirname "$0")/.."

RUN=${RUN:-runs/isbi2012-unet}
MODEL=models/isbi2012-unet
emseg() { echo "+ emseg $*" >&2; node bin/emseg.js "$@"; }
npm run --silent build   # bin/emseg.js runs the compiled dist/: compile the current sources first
json() { node -e "const j = JSON.parse(require('fs').readFileSync(process.argv[1], 'utf8')); console.log($2)" "$1"; }

# The honest protocol: slices 0-22 train, slices 23-26 choose (the checkpoint kept, the card's
# threshold, plain or TTA), slices 27-29 only report (their figures chose nothing).
TRAIN=0-22 SELECT=23-26 TEST=27-29
# The card's version: raised whenever what this script makes changes (recipe, data, rules), so that
# partners can tell shipped models apart by name@version as well as by sha256. 0.1.0 was the model
# of 2026-11-27, 0.2.0 that of 2026-12-02, 0.3.0 the single cycle of 2026-12-06 (all three cards
# said 0.1.0, the converter's default, at the time).
MODEL_VERSION=0.4.0

# Trains run folder $1 with the options after it unless it has completed; a stopped run resumes
# from its latest checkpoint. Then exports it to $1/draft.onnx (skipped when newer than the model).
train_cycle() {
  local run=$1 status=none
  shift
  [ -f "$run/config.json" ] && status=$(json "$run/config.json" 'j.status')
  if [ "$status" != completed ]; then
    if [ -d "$run/checkpoints/latest" ]; then
      emseg train --out "$run" --resume --quiet
    else
      emseg train --out "$run" --train-slices "$TRAIN" --validation-slices "$SELECT" --pixel-size 4 --validate-every 250 --checkpoint-every 25 --quiet "$@"
    fi
  fi
  [ "$run/draft.onnx" -nt "$run/model/model.json" ] || emseg convert "$run/model" -o "$run/draft.onnx" --quiet --force
}

# 1. Three cosine cycles of 4 crops of 256x256 per step (28,000 crops in all; train/README.md,
#    "Three cosine cycles", has the measurements that chose this recipe), with the defaults
#    otherwise: the shift augmentation of other microscopes (train/augment-shifts.ts), a weight
#    average (decay 0.998, train/weight-average.ts) and the selection rule
#    (train/selection-rule.ts: the latest averaged weights unless an earlier validation beats
#    them by 0.005 in V_rand and V_info at 0.5). Cycle 1 starts from random weights (3,000 steps);
#    cycles 2 and 3 start from the previous cycle's export (--init, 2,000 steps each, the learning
#    rate's cosine starting over, other seeds for their crops). ISBI pixels are 4 nm, recorded in
#    the card as trainingPixelSize; the card names all three runs (training.parent, nested).
train_cycle "$RUN" --steps 3000
train_cycle "$RUN-stage2" --init "$RUN/draft.onnx" --steps 2000 --seed 43
train_cycle "$RUN-stage3" --init "$RUN-stage2/draft.onnx" --steps 2000 --seed 44
for cycle in 1 2; do
  run=$RUN
  [ "$cycle" = 2 ] && run=$RUN-stage2
  cp "$run/config.json" "$MODEL.cycle$cycle.train-config.json"
  cp "$run/train.log.jsonl" "$MODEL.cycle$cycle.train.log.jsonl"
done
RUN=$RUN-stage3

# 2. The choice of the served default on the selection slices with the shift
#    suite on them (core/serving-choice.ts): threshold 0.5 unless another wins by 0.005 in V_rand
#    both there and in the suite's mean; TTA only if it wins by 0.01 on both.
#    Both are skipped when their outputs are newer than their inputs (a rerun after training
#    repeats only what changed).
[ "$RUN/draft.metrics.json" -nt "$RUN/draft.onnx" ] || emseg evaluate "$RUN/draft.onnx" --tta --shift --providers cpu --select-slices "$SELECT" --slices "$TEST" --json "$RUN/draft.metrics.json" --force
variant=$(json "$RUN/draft.metrics.json" "j.selection.served")
threshold=$(json "$RUN/draft.metrics.json" "j.selection.chosenThresholds['$variant']")
tta=--no-tta
[ "$variant" = tta ] && tta=--tta
json "$RUN/draft.metrics.json" "j.selection.reasons.join('\\n')" >&2
echo "card: threshold $threshold, $tta" >&2

# 3. The cell parameters of the card on the draft model's probability maps (plain, the card's
#    options): a grid of seed rules scored on the selection slices (core/cells/README.md); the
#    built-in defaults stay unless another set wins by 0.001 in V_rand there
#    (core/cells/seed-rule-choice.ts); the chosen set is scored once on the test slices.
echo "+ npm run bench:seeds -- --model $RUN/draft.onnx ..." >&2
npm run --silent bench:seeds -- --model "$RUN/draft.onnx" --ep cpu --select-slices "$SELECT" --slices "$TEST" --json "$MODEL.cells.json"

# 4. The final export with the figures in the card (test slices at the chosen threshold, selection
#    slices beside them, labelled) and the chosen cell parameters, checked by Python's onnx.
emseg convert "$RUN/model" -o "$MODEL.onnx" --model-version "$MODEL_VERSION" --threshold "$threshold" "$tta" --metrics "$RUN/draft.metrics.json" --cells "$MODEL.cells.json" --check --force

# 5. The report, on the shipped file itself: test slices reported, selection slices named.
emseg evaluate "$MODEL.onnx" --tta --shift --providers cpu --select-slices "$SELECT" --slices "$TEST" --json "$MODEL.metrics.json" --report "$MODEL.report.md" --force
