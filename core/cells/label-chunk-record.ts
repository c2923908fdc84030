/**
 * A label chunk's record (label-chunk.ts) as bytes, for the large-image path, which keeps each
 * chunk's record on disk until the final step joins the cells (node/label-chunk-store.ts):
 *
 *   "EMSLCR01" | uint32 length of the JSON header | header (UTF-8: lx, ly, core, pieces, which
 *   beyond edges exist), zero-padded to 8 bytes | float64 area, first, innerFirst (pieces + 1
 *   each) | uint32 edges top, bottom, left, right | uint32 beyond edges that exist, same order
 *
 * Numbers are little-endian (as typed arrays are on every platform Node and browsers run on).
 * Platform-neutral.
 */
import type { Box } from '../padding.ts';
import { SIDES, type LabelChunkRecord, type Side } from './label-chunk.ts';

const MAGIC = 'EMSLCR01';

interface Header {
  lx: number;
  ly: number;
  core: Box;
  pieces: number;
  beyond: Side[];
}

export function encodeLabelChunkRecord(record: LabelChunkRecord): Uint8Array {
  const header: Header = { lx: record.lx, ly: record.ly, core: record.core, pieces: record.pieces, beyond: SIDES.filter((side) => record.beyond[side] !== null) };
  const text = new TextEncoder().encode(JSON.stringify(header));
  const headerEnd = 12 + text.length;
  const start = Math.ceil(headerEnd / 8) * 8;
  const floats = [record.area, record.first, record.innerFirst];
  const lines = [...SIDES.map((side) => record.edge[side]), ...header.beyond.map((side) => record.beyond[side]!)];
  const size = start + floats.reduce((n, a) => n + a.byteLength, 0) + lines.reduce((n, a) => n + a.byteLength, 0);
  const bytes = new Uint8Array(size);
  bytes.set(new TextEncoder().encode(MAGIC), 0);
  new DataView(bytes.buffer).setUint32(8, text.length, true);
  bytes.set(text, 12);
  let at = start;
  for (const array of [...floats, ...lines]) {
    bytes.set(new Uint8Array(array.buffer, array.byteOffset, array.byteLength), at);
    at += array.byteLength;
  }
  return bytes;
}

/** The record encoded by encodeLabelChunkRecord; RangeError naming `name` and what is wrong with the bytes. */
export function decodeLabelChunkRecord(bytes: Uint8Array, name = 'label chunk record'): LabelChunkRecord {
  const fail = (what: string): never => {
    throw new RangeError(`${name}: ${what}`);
  };
  if (bytes.length < 12 || new TextDecoder().decode(bytes.subarray(0, 8)) !== MAGIC) fail(`expected a label chunk record (starting ${MAGIC}), found ${bytes.length} bytes that are not one`);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const textLength = view.getUint32(8, true);
  if (12 + textLength > bytes.length) fail(`header of ${textLength} bytes runs past the end (${bytes.length} bytes)`);
  let header: Header;
  try {
    header = JSON.parse(new TextDecoder().decode(bytes.subarray(12, 12 + textLength))) as Header;
  } catch {
    return fail('header is not JSON');
  }
  const { core, pieces } = header;
  const integer = (v: unknown, min: number) => typeof v === 'number' && Number.isInteger(v) && v >= min;
  if (!integer(header.lx, 0) || !integer(header.ly, 0) || !integer(pieces, 0) || !core || !integer(core.x, 0) || !integer(core.y, 0) || !integer(core.width, 1) || !integer(core.height, 1) || !Array.isArray(header.beyond) || !header.beyond.every((side) => SIDES.includes(side))) {
    fail(`header: expected lx, ly, core, pieces and beyond sides, found ${JSON.stringify(header)}`);
  }
  const start = Math.ceil((12 + textLength) / 8) * 8;
  const lengths = { top: core.width, bottom: core.width, left: core.height, right: core.height };
  const expected = start + 3 * 8 * (pieces + 1) + 4 * (SIDES.reduce((n, side) => n + lengths[side], 0) + header.beyond.reduce((n, side) => n + lengths[side], 0));
  if (bytes.length !== expected) fail(`expected ${expected} bytes for ${pieces} pieces of a ${core.width}x${core.height} core, found ${bytes.length}`);
  // Copied out, so that the arrays are aligned whatever the buffer's offset.
  let at = start;
  const float = () => {
    const out = new Float64Array(bytes.slice(at, at + 8 * (pieces + 1)).buffer);
    at += 8 * (pieces + 1);
    return out;
  };
  const line = (side: Side) => {
    const out = new Uint32Array(bytes.slice(at, at + 4 * lengths[side]).buffer);
    at += 4 * lengths[side];
    return out;
  };
  const area = float();
  const first = float();
  const innerFirst = float();
  const edge = { top: line('top'), bottom: line('bottom'), left: line('left'), right: line('right') };
  const beyond: Record<Side, Uint32Array | null> = { top: null, bottom: null, left: null, right: null };
  for (const side of SIDES) if (header.beyond.includes(side)) beyond[side] = line(side);
  return { lx: header.lx, ly: header.ly, core: { x: core.x, y: core.y, width: core.width, height: core.height }, pieces, area, first, innerFirst, edge, beyond };
}
