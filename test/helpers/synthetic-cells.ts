/**
 * A synthetic cell-interior probability map for tests of the cell labels: a jittered grid of cell
 * centres, each pixel's probability rising with its distance to the boundary between its nearest
 * two centres (so thin membranes of low probability separate cells of about `cell` pixels),
 * plus seeded noise.
 */
import { createRng } from '../../core/random.ts';

export function syntheticCellProbability(width: number, height: number, options: { cell?: number; noise?: number; seed?: number } = {}): Float32Array {
  const cell = options.cell ?? 24;
  const noise = options.noise ?? 0.1;
  const rng = createRng(options.seed ?? 1);
  const gw = Math.ceil(width / cell) + 2;
  const gh = Math.ceil(height / cell) + 2;
  const cx = new Float64Array(gw * gh);
  const cy = new Float64Array(gw * gh);
  for (let j = 0; j < gh; j++) {
    for (let i = 0; i < gw; i++) {
      cx[j * gw + i] = (i - 1 + rng.float()) * cell;
      cy[j * gw + i] = (j - 1 + rng.float()) * cell;
    }
  }
  const probability = new Float32Array(width * height);
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const gi = Math.floor(x / cell) + 1;
      const gj = Math.floor(y / cell) + 1;
      let d1 = Infinity;
      let d2 = Infinity;
      for (let dj = -1; dj <= 1; dj++) {
        for (let di = -1; di <= 1; di++) {
          const k = (gj + dj) * gw + gi + di;
          const d = Math.hypot(cx[k]! - x, cy[k]! - y);
          if (d < d1) [d2, d1] = [d1, d];
          else if (d < d2) d2 = d;
        }
      }
      const boundary = (d2 - d1) / 2;
      const p = 1 / (1 + Math.exp(-(boundary - 2))) + (rng.float() - 0.5) * 2 * noise;
      probability[y * width + x] = Math.min(1, Math.max(0, p));
    }
  }
  return probability;
}
