#!/usr/bin/env bash
# Makes the shipped default model from scratch with the project's own commands:
#   models/isbi2012-unet.onnx           the model (the card inside, in metadata_props)
#   models/isbi2012-unet.json           its model card
#   models/isbi2012-unet.train-config.json, .train.log.jsonl   the training run's config and log
#   models/isbi2012-unet.metrics.json   emseg evaluate's figures (plain and 8-fold TTA)
#   models/isbi2012-unet.report.md      the evaluation report (+ .validation.png, .test.png, .curve.svg)
#
# Training takes hours on a 2-core CPU. The script can be stopped at any time and run again:
# training resumes from its latest checkpoint in $RUN (default runs/isbi2012-unet), and the
# steps after training are quick (minutes). Usage: scripts/make-default-model.sh
set -euo pipefail
cd "$(dirname "$0")/.."

RUN=${RUN:-runs/isbi2012-unet}
MODEL=models/isbi2012-unet
emseg() { echo "+ emseg $*" >&2; node bin/emseg.js "$@"; }
npm run --silent build   # bin/emseg.js runs the compiled dist/: compile the current sources first
json() { node -e "const j = JSON.parse(require('fs').readFileSync(process.argv[1], 'utf8')); console.log($2)" "$1"; }

# 1. Train on slices 0-24, validate on 25-29 (the defaults: 2,500 steps of 4 crops of 256x256).
status=none
[ -f "$RUN/config.json" ] && status=$(json "$RUN/config.json" 'j.status')
if [ "$status" != completed ]; then
  resume=()
  [ -d "$RUN/checkpoints/latest" ] && resume=(--resume)
  emseg train --out "$RUN" --validate-every 250 --checkpoint-every 25 --quiet "${resume[@]}"
fi

# 2. A first export, scored on the validation slices to choose the card's threshold: the best
#    V_rand threshold of plain inference (chosen on the validation slices, so the figures at it are
#    a little optimistic; the report says so). Test-time augmentation becomes the served default
#    only if plain inference stays below V_rand 0.96.
emseg convert "$RUN/model" -o "$RUN/draft.onnx" --quiet
emseg evaluate "$RUN/draft.onnx" --tta --providers cpu --json "$RUN/draft.metrics.json"
plain_vrand=$(json "$RUN/draft.metrics.json" "j.rows.find((r) => r.variant === 'plain').vRandBest")
if node -e "process.exit(Number(process.argv[1]) >= 0.96 ? 0 : 1)" "$plain_vrand"; then
  variant=plain tta=--no-tta
else
  variant=tta tta=--tta
fi
threshold=$(json "$RUN/draft.metrics.json" "j.rows.find((r) => r.variant === '$variant').bestThreshold")
echo "card: threshold $threshold, $tta (plain V_rand $plain_vrand)" >&2

# 3. Figures at that threshold, the final export with them in the card, checked by Python's onnx.
emseg evaluate "$RUN/draft.onnx" --tta --threshold "$threshold" --providers cpu --json "$RUN/metrics.json"
emseg convert "$RUN/model" -o "$MODEL.onnx" --threshold "$threshold" "$tta" --metrics "$RUN/metrics.json" --check

# 4. The report, on the shipped file itself.
emseg evaluate "$MODEL.onnx" --tta --providers cpu --json "$MODEL.metrics.json" --report "$MODEL.report.md"
