/**
 * evaluate/labelled-slices.ts: the slices `emseg evaluate` reports by default fit the stack (the
 * ISBI validation split on the ISBI training stack, all slices of another), never include the
 * selection slices, and say so in one line; given lists are checked against the stack and each other.
 */
import { describe, expect, it } from 'vitest';
import { ISBI_TRAIN_IMAGES } from '../core/isbi-data.ts';
import { chooseSlices } from '../evaluate/labelled-slices.ts';

describe('chooseSlices', () => {
  it('defaults to the validation split on the ISBI training stack and to all slices elsewhere', () => {
    expect(chooseSlices({ images: ISBI_TRAIN_IMAGES, pageCount: 30 })).toEqual({ slices: [25, 26, 27, 28, 29], note: 'slices 25-29: --slices not given, the validation split of the ISBI training stack' });
    const lab = chooseSlices({ images: 'lab/stack.tif', pageCount: 10 });
    expect(lab.slices).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
    expect(lab.note).toBe('slices 0-9: --slices not given, all 10 slices of lab/stack.tif (25-29 is the default on the ISBI training stack only)');
  });

  it('leaves the selection slices out of the default, and refuses a default with nothing left', () => {
    expect(chooseSlices({ images: ISBI_TRAIN_IMAGES, pageCount: 30, selectSlices: '23-26' })).toMatchObject({ slices: [27, 28, 29], selectSlices: [23, 24, 25, 26] });
    expect(chooseSlices({ images: 'lab', pageCount: 4, selectSlices: '0,2' }).slices).toEqual([1, 3]);
    expect(() => chooseSlices({ images: 'lab', pageCount: 2, selectSlices: '0-1' })).toThrow('--slices: not given, and the default (all 2 slices of lab) leaves nothing without the --select-slices; give --slices');
  });

  it('takes given lists as they are, checked against the stack and each other', () => {
    expect(chooseSlices({ images: 'lab', pageCount: 10, slices: '3,1' })).toEqual({ slices: [3, 1] });
    expect(() => chooseSlices({ images: 'lab', pageCount: 10, slices: '29' })).toThrow('--slices: slice 29 is out of range, the stack has slices 0-9');
    expect(() => chooseSlices({ images: 'lab', pageCount: 10, slices: '2-4', selectSlices: '4-5' })).toThrow('--select-slices: 4 also in --slices; selection and test slices must not overlap');
  });
});
