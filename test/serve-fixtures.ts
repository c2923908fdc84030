/**
 * Shared pieces of the server tests: a fake model (a pixel-wise sigmoid, no ONNX, fast) with a
 * card following the contract, a quiet log, and small image builders.
 */
import { contractSection, DEFAULT_HALO, DEFAULT_THRESHOLD, DEFAULT_TILE, type ModelCard } from '../core/contract.ts';
import { makeImage, type GreyImage } from '../core/image.ts';
import type { ServedModel, ServerLog } from '../serve/app.ts';

export function fakeCard(overrides: Partial<ModelCard> = {}): ModelCard {
  return {
    name: 'fake-sigmoid',
    version: '0.0.1',
    architecture: { kind: 'unet', depth: 2, baseFilters: 1, batchNorm: false, dropout: 0, parameters: 0 },
    contract: contractSection(2),
    threshold: DEFAULT_THRESHOLD,
    tile: DEFAULT_TILE,
    halo: DEFAULT_HALO,
    ...overrides,
  };
}

export interface FakeModel extends ServedModel {
  calls: number[];
}

/** probability = sigmoid(normalized intensity); `delayMs` simulates inference time. */
export function fakeModel(options: { delayMs?: number; card?: Partial<ModelCard> } = {}): FakeModel {
  const calls: number[] = [];
  return {
    provider: 'cpu',
    card: fakeCard(options.card),
    calls,
    predictor: async (tiles, n, height, width) => {
      calls.push(n);
      if (options.delayMs) await new Promise((resolve) => setTimeout(resolve, options.delayMs));
      const out = new Float32Array(n * height * width);
      for (let i = 0; i < out.length; i += 1) out[i] = 1 / (1 + Math.exp(-tiles[i]!));
      return out;
    },
  };
}

export interface CapturedLog extends ServerLog {
  lines: string[];
}

export function captureLog(): CapturedLog {
  const lines: string[] = [];
  return {
    lines,
    info: (message) => lines.push(`info ${message}`),
    warn: (message) => lines.push(`warn ${message}`),
    error: (message, error) => lines.push(`error ${message} ${error instanceof Error ? error.stack : String(error)}`),
  };
}

/** A grey 8-bit image with a smooth pattern (so masks have both classes). */
export function patternImage(width: number, height: number): GreyImage<Uint8Array> {
  const data = new Uint8Array(width * height);
  for (let y = 0; y < height; y += 1) {
    for (let x = 0; x < width; x += 1) data[y * width + x] = Math.round(127.5 + 127.5 * Math.sin(x / 7) * Math.cos(y / 11));
  }
  return makeImage(width, height, data);
}
