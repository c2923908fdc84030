/**
 * core/grey.ts: interleavedToGreyInSteps gives interleavedToGrey's image while pausing between
 * steps (the server's event loop answers meanwhile: an 8000x8000 RGBA16 PNG held it 1.7 s in one
 * piece before, issue 26), and both check their arguments.
 */
import { describe, expect, it } from 'vitest';
import { interleavedToGrey, interleavedToGreyInSteps } from '../core/grey.ts';

const samplesOf = <T extends Uint8Array | Uint16Array | Float32Array>(Type: new (n: number) => T, length: number, scale: number): T => {
  const values = new Type(length);
  for (let i = 0; i < length; i++) values[i] = ((i * 2654435761) % 1000) * scale;
  return values;
};

describe('interleavedToGreyInSteps', () => {
  for (const [label, Type, scale] of [['uint8', Uint8Array, 0.25], ['uint16', Uint16Array, 60], ['float32', Float32Array, 0.001]] as const) {
    for (const channels of [1, 2, 3, 4]) {
      it(`equals interleavedToGrey for ${label} with ${channels} channel(s), pausing between steps`, async () => {
        const width = 37;
        const height = 23;
        const samples = samplesOf(Type as new (n: number) => Uint8Array | Uint16Array | Float32Array, width * height * channels, scale);
        let pauses = 0;
        const stepped = await interleavedToGreyInSteps(samples, width, height, channels, async () => void (pauses += 1), 100);
        const whole = interleavedToGrey(samples, width, height, channels);
        expect(stepped.data.constructor).toBe(whole.data.constructor);
        expect(Array.from(stepped.data)).toEqual(Array.from(whole.data));
        expect(pauses).toBe(Math.ceil((width * height) / 100) - 1);
      });
    }
  }

  it('does not pause for an image of one step', async () => {
    let pauses = 0;
    await interleavedToGreyInSteps(new Uint8Array(12), 2, 2, 3, async () => void (pauses += 1), 4);
    expect(pauses).toBe(0);
  });

  it('checks channels and the sample count before converting', async () => {
    const pause = async () => {};
    await expect(interleavedToGreyInSteps(new Uint8Array(10), 2, 2, 3, pause)).rejects.toThrow(/samples: expected 12 values for 2x2x3, found 10/);
    await expect(interleavedToGreyInSteps(new Uint8Array(20), 2, 2, 5, pause)).rejects.toThrow(/channels: expected 1, 2, 3 or 4, found 5/);
    expect(() => interleavedToGrey(new Uint8Array(10), 2, 2, 3)).toThrow(/found 10/);
  });
});
