import { describe, expect, it } from 'vitest';
import { GLYPH_HEIGHT, GLYPH_WIDTH, drawText, hasGlyph, measureText } from '../core/bitmap-font.ts';
import { makeImage, makeStack } from '../core/image.ts';
import { renderMontage, shrinkRgb } from '../core/montage.ts';
import { makeRgbImage } from '../core/rgb-image.ts';
import { sliceMontageSpec } from '../core/slice-montage.ts';
import { parseSliceList } from '../core/slice-list.ts';

const grey = (w: number, h: number, v: number) => makeImage(w, h, new Uint8Array(w * h).fill(v));

describe('bitmap font', () => {
  it('has digits, letters and the symbols montages use', () => {
    for (const char of '0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ .,:-+=_/%()[]|#<>?!\'') expect(hasGlyph(char), char).toBe(true);
  });

  it('measures and draws text at the requested scale, clipped to the image', () => {
    expect(measureText('ab', 2)).toEqual({ width: (2 * (GLYPH_WIDTH + 1) - 1) * 2, height: GLYPH_HEIGHT * 2 });
    const canvas = makeRgbImage(30, 20, [255, 255, 255]);
    drawText(canvas, '1', 0, 0, { colour: [0, 0, 0], scale: 2 });
    // '1' is '..#..' in its first row: pixels x 4-5 of rows 0-1 are ink, x 0-3 paper.
    const at = (x: number, y: number) => canvas.data[(y * 30 + x) * 3];
    expect([at(0, 0), at(3, 1), at(4, 0), at(5, 1)]).toEqual([255, 255, 0, 0]);
    expect(() => drawText(canvas, 'clipped', 25, 15)).not.toThrow();
  });
});

describe('renderMontage', () => {
  it('is gap + label column + columns + gaps wide and gap + header + rows + gaps tall', () => {
    const spec = {
      columns: ['image', 'label'],
      rows: [
        { label: 'slice 3', cells: [grey(70, 40, 10), grey(70, 40, 200)] },
        { label: 'slice 12', cells: [grey(70, 30, 10), makeRgbImage(80, 30, [255, 0, 0])] },
      ],
    };
    const out = renderMontage(spec, { gap: 8, fontScale: 2 });
    const labelWidth = measureText('slice 12', 2).width;
    const textHeight = measureText('', 2).height;
    expect(out.width).toBe(8 + labelWidth + 8 + 70 + 8 + 80 + 8);
    expect(out.height).toBe(8 + textHeight + 8 + 40 + 8 + 30 + 8);
    // The red cell sits at the top-left of its slot in the second row.
    const left = 8 + labelWidth + 8 + 70 + 8;
    const top = 8 + textHeight + 8 + 40 + 8;
    expect(Array.from(out.data.subarray((top * out.width + left) * 3, (top * out.width + left) * 3 + 3))).toEqual([255, 0, 0]);
  });

  it('makes a column at least as wide as its title', () => {
    const out = renderMontage({ columns: ['a long column title'], rows: [{ label: '', cells: [grey(4, 4, 0)] }] }, { gap: 0 });
    expect(out.width).toBe(measureText('a long column title', 2).width);
  });

  it('shrinks cells by an integer factor with box averaging and leaves missing cells empty', () => {
    const checker = makeRgbImage(4, 2);
    checker.data.set([255, 255, 255], 0);
    const small = shrinkRgb(checker, 2);
    expect([small.width, small.height]).toEqual([2, 1]);
    expect(small.data[0]).toBe(64);
    const out = renderMontage({ columns: [], rows: [{ label: '', cells: [grey(10, 10, 0), undefined, grey(10, 10, 0)] }] }, { shrink: 2, gap: 1 });
    expect([out.width, out.height]).toEqual([1 + 5 + 1 + 0 + 1 + 5 + 1, 1 + 5 + 1]);
  });
});

describe('sliceMontageSpec', () => {
  const images = makeStack([grey(8, 8, 50), grey(8, 8, 60), grey(8, 8, 70)]);
  const labels = makeStack([grey(8, 8, 255), grey(8, 8, 0), grey(8, 8, 255)]);

  it('makes image | label | overlay rows labelled with the slice numbers, plus extra columns', () => {
    const spec = sliceMontageSpec({ images, labels, slices: [2, 0], extraColumns: [{ title: 'errors', cell: (s) => (s === 2 ? grey(8, 8, 1) : undefined) }] });
    expect(spec.columns).toEqual(['image', 'label', 'overlay (red = membrane)', 'errors']);
    expect(spec.rows.map((row) => row.label)).toEqual(['slice 2', 'slice 0']);
    expect(spec.rows[0]!.cells).toHaveLength(4);
    expect(spec.rows[1]!.cells[3]).toBeUndefined();
  });

  it('refuses stacks of different sizes with E_SIZE_MISMATCH naming both', () => {
    const other = makeStack([grey(9, 8, 0)]);
    expect(() => sliceMontageSpec({ images, labels: other, slices: [0], imagesName: 'a.tif', labelsName: 'b.tif' })).toThrow(
      'b.tif: 1 pages of 9x8 do not match a.tif: 3 pages of 8x8',
    );
  });
});

describe('parseSliceList', () => {
  it('reads numbers and inclusive ranges in the given order without duplicates', () => {
    expect(parseSliceList('0,5,25-29', 30)).toEqual([0, 5, 25, 26, 27, 28, 29]);
    expect(parseSliceList(' 3 , 1-2, 3', 30)).toEqual([3, 1, 2]);
  });

  it('names the option and the problem', () => {
    expect(() => parseSliceList('0,x', 30)).toThrow("--slices: expected slice numbers and ranges like 0,5,25-29, found '0,x'");
    expect(() => parseSliceList('28-31', 30)).toThrow('--slices: slice 31 is out of range, the stack has slices 0-29');
    expect(() => parseSliceList('5-2', 30)).toThrow('--slices: range 5-2 runs backwards');
  });
});
