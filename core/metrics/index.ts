/**
 * Segmentation metrics (platform-neutral): pixel error, Dice, IoU and the ISBI 2012 foreground-
 * restricted V_rand and V_info after border thinning. See score.ts for the exact definition.
 */
export { scoreSlice, scoreSlices, truthSegments, DEFAULT_SWEEP } from './score.ts';
export type { SliceScores, ThresholdScores, BestScores, ScoreSummary, ScoreOptions, ProbabilityImage } from './score.ts';
export { confusionCounts, pixelScores, pixelScoresFromCounts } from './pixel.ts';
export type { ConfusionCounts, PixelScores } from './pixel.ts';
export { labelComponents4 } from './components.ts';
export type { Components } from './components.ts';
export { thinBorders, thinLabelBorders } from './border-thinning.ts';
export type { ThinnedSegments } from './border-thinning.ts';
export { foregroundRestrictedScores } from './rand-info.ts';
export type { SegmentationScores } from './rand-info.ts';
export { scoreLabelSlice, scoreLabelSlices } from './label-score.ts';
export type { LabelImage, LabelScoreOptions, LabelScoreSummary, LabelSliceScores } from './label-score.ts';
export { scoreLabelVolume } from './volume-score.ts';
