/**
 * The server's instance labels and cell table (`output=labels`, `output=cells`): the labels are a
 * partition with 0 on the lines between cells, the table has one row per label and its areas sum
 * to the labelled pixels, both follow the model card's cell parameters, and output/format
 * combinations that cannot hold the answer get a one-line 400.
 */
import { describe, expect, it } from 'vitest';
import { cellParamsFrom } from '../core/cells/cell-params.ts';
import { labelCells } from '../core/cells/cell-labels.ts';
import { cellTableCsv } from '../core/cells/cell-table.ts';
import { labelStackCells } from '../core/cells/stack-cells.ts';
import { measureCells } from '../core/cells/cell-measurements.ts';
import { makeImage } from '../core/image.ts';
import { segmentImage } from '../core/inference.ts';
import { decodeTiff, encodeLabelTiff, encodeTiff } from '../core/tiff.ts';
import { decodeImageBytes } from '../node/image-files.ts';
import { encodePng } from '../node/png.ts';
import { createApp } from '../serve/app.ts';
import { predictCommandFor } from '../serve/work-admission.ts';
import { captureLog, fakeModel, patternImage } from './serve-fixtures.ts';
import { decodeLabelTiff } from '../node/label-tiff.ts';

type Model = ReturnType<typeof fakeModel>;

async function post(model: Model, body: Uint8Array, query: string, contentType = 'image/png'): Promise<Response> {
  const { app, ready } = createApp({ model, log: captureLog(), processMetrics: false });
  await ready;
  return app.request(`/v1/segment?${query}`, { method: 'POST', body: body as Uint8Array<ArrayBuffer>, headers: { 'Content-Type': contentType } });
}

interface CellTableJson {
  image: string;
  pixelSize: number | null;
  count: number;
  cells: Record<string, string | number | null>[];
}

/** Nonzero labels of 4-neighbours differ only across a 0 line: true when no two cells touch. */
function cellsTouch(labels: ArrayLike<number>, width: number, height: number): boolean {
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const k = labels[y * width + x]!;
      if (k === 0) continue;
      const right = x + 1 < width ? labels[y * width + x + 1]! : 0;
      const down = y + 1 < height ? labels[(y + 1) * width + x]! : 0;
      if ((right !== 0 && right !== k) || (down !== 0 && down !== k)) return true;
    }
  }
  return false;
}

describe('POST /v1/segment?output=labels and output=cells', () => {
  const image = patternImage(160, 120);
  const model = fakeModel({ card: { tile: 64, halo: 16 } });

  it('answers a 16-bit PNG partition whose labels are the rows of the cell table', async () => {
    const png = await encodePng(image);
    const response = await post(model, png, 'output=labels&format=png');
    expect(response.status).toBe(200);
    expect(response.headers.get('Content-Type')).toBe('image/png');
    const page = (await decodeImageBytes(new Uint8Array(await response.arrayBuffer()), 'labels')).pages[0]!;
    expect(page.data).toBeInstanceOf(Uint16Array);
    expect([page.width, page.height]).toEqual([160, 120]);
    const labels = page.data;
    const distinct = new Set(Array.from(labels).filter((k) => k !== 0));
    expect(distinct.size).toBeGreaterThan(3);
    expect(Math.max(...distinct)).toBe(distinct.size); // numbered 1..count
    expect(cellsTouch(labels, page.width, page.height)).toBe(false);
    expect(labels.includes(0)).toBe(true);

    // The same labels as core/cells on the probability a direct run gives, with the card's parameters.
    const direct = await segmentImage(image, model.predictor, { tile: 64, halo: 16, sizeMultiple: 4, threshold: model.card.threshold });
    const expected = labelCells(direct.probability.data, 160, 120, cellParamsFrom(model.card.cells));
    expect(Array.from(labels)).toEqual(Array.from(expected.labels));

    const table = (await (await post(model, png, 'output=cells')).json()) as CellTableJson;
    expect(table.count).toBe(distinct.size);
    expect(table.cells.map((cell) => cell['label'])).toEqual([...distinct].sort((a, b) => a - b));
    const areas = table.cells.reduce((sum, cell) => sum + Number(cell['area_px']), 0);
    expect(areas).toBe(Array.from(labels).filter((k) => k !== 0).length);
    expect(table.cells[0]!['area_um2']).toBeNull(); // no pixel size known
  });

  it('answers the CSV of emseg predict --cells, and uint32 labels as TIFF stating the pixel size', async () => {
    const png = await encodePng(image);
    const model = fakeModel({ card: { tile: 64, halo: 16, trainingPixelSize: 4 } });
    const csvResponse = await post(model, png, 'output=cells&format=csv&pixelSize=4');
    expect(csvResponse.status).toBe(200);
    expect(csvResponse.headers.get('Content-Type')).toMatch(/^text\/csv/);
    const csv = await csvResponse.text();

    const tiffResponse = await post(model, png, 'output=labels&pixelSize=4');
    expect(tiffResponse.status).toBe(200);
    expect(tiffResponse.headers.get('Content-Type')).toBe('image/tiff');
    const labelsTiff = new Uint8Array(await tiffResponse.arrayBuffer());
    const decoded = await decodeLabelTiff(labelsTiff, 'labels answer');
    expect(decoded.pages).toHaveLength(1);
    const page = decoded.pages[0]!;
    expect(page.data).toBeInstanceOf(Uint32Array);
    const { probability } = await segmentImage(image, model.predictor, { tile: 64, halo: 16, sizeMultiple: 4, threshold: model.card.threshold });
    const cells = labelCells(probability.data, 160, 120, cellParamsFrom(model.card.cells));
    expect(Array.from(page.data)).toEqual(Array.from(cells.labels));
    // The pixel size the mask's TIFF states (4 nm, from the query), in the same tags.
    const mask = decodeTiff(new Uint8Array(await (await post(model, png, 'output=mask&format=tiff&pixelSize=4')).arrayBuffer()), 'mask.tif');
    expect(mask.pixelSize).toMatchObject({ x: 4, y: 4, unit: 'nanometer' });
    const labelPage = { width: 160, height: 120, data: cells.labels };
    expect(Buffer.from(labelsTiff).equals(Buffer.from(encodeLabelTiff({ width: 160, height: 120, pages: [labelPage], pixelSize: mask.pixelSize })))).toBe(true);
    expect(Buffer.from(labelsTiff).equals(Buffer.from(encodeLabelTiff({ width: 160, height: 120, pages: [labelPage] })))).toBe(false);
    const name = csv.split('\r\n')[1]!.split(',')[0]!;
    expect(csv).toBe(cellTableCsv([{ image: name, cells: measureCells(cells, { probability: probability.data }), pixelSize: 4 }]));
    expect(csv.split('\r\n').filter(Boolean).length).toBe(cells.count + 1);
  });

  it("labels by the card's cell parameters, and refuses a PNG for more than 65535 cells", async () => {
    // A checkerboard: every bright pixel alone; with one-pixel seeds at 0.6 each is a cell (the defaults, 0.75 and 25 pixels, find none).
    const side = 512;
    const data = new Uint8Array(side * side);
    for (let i = 0; i < data.length; i++) data[i] = ((i % side) + Math.floor(i / side)) % 2 === 0 ? 255 : 0;
    const png = await encodePng(makeImage(side, side, data));
    const checkerModel = fakeModel({ card: { cells: { seedThreshold: 0.6, minSeedArea: 1 } } });
    const response = await post(checkerModel, png, 'output=labels&format=png');
    expect(response.status).toBe(400);
    const problem = (await response.json()) as { detail: string; code: string };
    expect(problem.detail).toMatch(/65535.*131072 cells.*format=tiff/);
    expect(problem.detail).not.toContain('\n');
    const table = (await (await post(checkerModel, png, 'output=cells')).json()) as CellTableJson;
    expect(table.count).toBe(side * side / 2);
    const defaults = (await (await post(fakeModel(), png, 'output=cells')).json()) as CellTableJson;
    expect(defaults.count).toBe(0);
  }, 60_000);

  it('answers one-line 400s for output/format combinations that cannot hold the answer', async () => {
    const png = await encodePng(image);
    const stack = encodeTiff({ width: 160, height: 120, pages: [image, image] });
    const cases: [Uint8Array, string, RegExp][] = [
      [png, 'output=cells&format=png', /output=cells is a table, json \(the default\) or csv, not png/],
      [png, 'output=labels&format=csv', /csv is for output=cells/],
      [png, 'output=mask&format=json', /json is for output=cells/],
      [stack, 'output=labels&format=png', /png holds one page but .* has 2 pages/],
    ];
    for (const [body, query, detail] of cases) {
      const response = await post(model, body, query, body === png ? 'image/png' : 'image/tiff');
      expect(response.status, query).toBe(400);
      const problem = (await response.json()) as { detail: string };
      expect(problem.detail).toMatch(detail);
      expect(problem.detail).not.toContain('\n');
    }
    const pages = await post(model, stack, 'output=cells&format=csv', 'image/tiff');
    expect(pages.status).toBe(200);
    const slices = new Set((await pages.text()).split('\r\n').slice(1).filter(Boolean).map((line) => line.split(',')[2]));
    expect([...slices]).toEqual(['0', '1']);
  });

  it('documents output=labels and output=cells, their formats and answers in /openapi.json', async () => {
    const { app, ready } = createApp({ model, log: captureLog(), processMetrics: false });
    await ready;
    type Parameter = { name: string; schema: { enum?: string[] } };
    const document = (await (await app.request('/openapi.json')).json()) as {
      paths: Record<string, { post?: { parameters: Parameter[]; responses: Record<string, { content?: Record<string, unknown> }> } }>;
    };
    const segment = document.paths['/v1/segment']!.post!;
    const enumOf = (name: string) => segment.parameters.find((p) => p.name === name)!.schema.enum;
    expect(enumOf('output')).toEqual(expect.arrayContaining(['labels', 'cells']));
    expect(enumOf('format')).toEqual(expect.arrayContaining(['png', 'tiff', 'json', 'csv']));
    expect(Object.keys(segment.responses['200']!.content!)).toEqual(expect.arrayContaining(['image/png', 'image/tiff', 'application/json', 'text/csv']));
  });

  it('names the emseg predict command of labels and cells when the work is too much', () => {
    const request = { workWidth: 512, workHeight: 512, width: 512, height: 512, pages: 1, tta: false, threshold: 0.4 };
    expect(predictCommandFor({ ...request, output: 'labels' })).toBe('emseg predict <image> -o labels.tif --output labels');
    expect(predictCommandFor({ ...request, output: 'cells' })).toBe('emseg predict <image> -o mask.png --cells cells.csv');
  });
});

describe('POST /v1/segment?linkSections=f: cells linked through the pages of a stack', () => {
  const model = fakeModel({ card: { tile: 64, halo: 16 } });
  // Three pages of the same pattern, the middle one shifted by 2 pixels: its cells continue the first page's.
  const first = patternImage(160, 120);
  const shifted = makeImage(160, 120, Uint8Array.from({ length: 160 * 120 }, (_, i) => first.data[Math.max(0, i - 2)]!));
  const stack = encodeTiff({ width: 160, height: 120, pages: [first, shifted, first] });

  it('answers object ids through the pages, the labels of core/cells/stack-cells.ts with the same option, and an object_id column', async () => {
    const response = await post(model, stack, 'output=labels&linkSections=0.5', 'image/tiff');
    expect(response.status).toBe(200);
    const answer = await decodeLabelTiff(new Uint8Array(await response.arrayBuffer()), 'linked labels answer');
    expect(answer.pages).toHaveLength(3);
    const pages = answer.pages.map((page) => page.data);
    const decoded = decodeTiff(stack, 'stack.tif');
    const probabilities = [];
    for (const page of decoded.pages) probabilities.push((await segmentImage(page, model.predictor, { tile: 64, halo: 16, sizeMultiple: 4, threshold: model.card.threshold })).probability);
    const expected = labelStackCells({ width: 160, height: 120, pages: probabilities }, cellParamsFrom(model.card.cells), { linkSections: 0.5 });
    expect(pages.map((page) => Array.from(page))).toEqual(expected.labels.pages.map((page) => Array.from(page.data)));
    // Linked: pages 0 and 2 are the same image, so most of their objects are the same ones.
    const objects = (page: Uint32Array) => new Set(Array.from(page).filter((k) => k !== 0));
    const shared = [...objects(pages[0]!)].filter((k) => objects(pages[2]!).has(k));
    expect(shared.length).toBeGreaterThan(objects(pages[0]!).size / 2);
    // ... and not the labels numbered per page (which the answer would be without the option).
    const unlinked = await post(model, stack, 'output=labels', 'image/tiff');
    const unlinkedPages = (await decodeLabelTiff(new Uint8Array(await unlinked.arrayBuffer()), 'labels answer')).pages.map((page) => Array.from(page.data));
    expect(unlinkedPages).not.toEqual(pages.map((page) => Array.from(page)));

    const table = (await (await post(model, stack, 'output=cells&linkSections=0.5', 'image/tiff')).json()) as CellTableJson;
    expect(table.count).toBe(expected.cells.length);
    expect(table.cells.map((cell) => cell['object_id'])).toEqual(expected.cells.map((cell) => cell.object));
    expect(Object.keys(table.cells[0]!).slice(0, 4)).toEqual(['image', 'label', 'slice', 'object_id']);
    const csv = await (await post(model, stack, 'output=cells&format=csv&linkSections=0.5', 'image/tiff')).text();
    expect(csv.split('\r\n')[0]).toMatch(/^image,label,slice,object_id,area_px,/);
    const plain = (await (await post(model, stack, 'output=cells', 'image/tiff')).json()) as CellTableJson;
    expect(plain.cells[0]!).not.toHaveProperty('object_id');
  });

  it('refuses linkSections outside (0, 1] or without cells, in one line', async () => {
    const cases: [string, RegExp][] = [
      ['output=labels&linkSections=0', /linkSections.*\(0, 1\]/],
      ['output=labels&linkSections=1.5', /linkSections.*\(0, 1\]/],
      ['output=cells&linkSections=', /linkSections/],
      ['output=cells&linkSections=0x1', /linkSections/],
      ['output=mask&linkSections=0.5', /linkSections: links cells across pages; ask for output=labels or output=cells, not output=mask/],
    ];
    for (const [query, detail] of cases) {
      const response = await post(model, stack, query, 'image/tiff');
      expect(response.status, query).toBe(400);
      const problem = (await response.json()) as { detail: string };
      expect(problem.detail, query).toMatch(detail);
      expect(problem.detail).not.toContain('\n');
    }
  });

  it('names --link-sections in the emseg predict command of a request too large for the server', () => {
    const request = { workWidth: 512, workHeight: 512, width: 512, height: 512, pages: 30, tta: false, linkSections: 0.5 };
    expect(predictCommandFor({ ...request, output: 'labels' })).toBe('emseg predict <image> -o labels.tif --output labels --link-sections 0.5');
    expect(predictCommandFor({ ...request, output: 'cells' })).toBe('emseg predict <image> -o mask.tif --cells cells.csv --link-sections 0.5');
  });
});
