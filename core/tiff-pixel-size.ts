/**
 * The physical pixel size a TIFF states, from its ImageDescription:
 * - OME-TIFF: the OME-XML `<Pixels PhysicalSizeX=... PhysicalSizeXUnit=...>` (unit default µm);
 * - ImageJ TIFF: `unit=` (and `spacing=` between slices) of the description with the
 *   XResolution/YResolution tags (pixels per unit).
 * Units come out as OME-NGFF (UDUNITS) names, e.g. 'nanometer'. Platform-neutral.
 */
import { EmsegError } from './errors.ts';
import type { PixelSize } from './volume.ts';

/** Length unit symbols of OME-XML and ImageJ -> NGFF unit names. */
const UNIT_NAMES: Readonly<Record<string, string>> = {
  'Å': 'angstrom', 'angstrom': 'angstrom', 'pm': 'picometer', 'nm': 'nanometer', 'nanometer': 'nanometer',
  'µm': 'micrometer', 'μm': 'micrometer', 'um': 'micrometer', 'micron': 'micrometer', 'microns': 'micrometer', 'micrometer': 'micrometer',
  'mm': 'millimeter', 'millimeter': 'millimeter', 'cm': 'centimeter', 'centimeter': 'centimeter', 'm': 'meter', 'meter': 'meter',
};

/** Metres per unit, to express z in the unit of x. */
const METRES: Readonly<Record<string, number>> = {
  picometer: 1e-12, angstrom: 1e-10, nanometer: 1e-9, micrometer: 1e-6, millimeter: 1e-3, centimeter: 1e-2, meter: 1,
};

export interface TiffPixelSizeContext {
  /** XResolution and YResolution tag values (pixels per unit), empty when absent. */
  xResolution: readonly number[];
  yResolution: readonly number[];
  /** Pages of the file, to check an OME-TIFF's planes are z slices. */
  pages: number;
  /** Names the file in errors. */
  name: string;
}

function attributes(tag: string): Map<string, string> {
  const out = new Map<string, string>();
  for (const match of tag.matchAll(/([\w:]+)\s*=\s*"([^"]*)"/g)) out.set(match[1]!, match[2]!);
  return out;
}

function positive(text: string | undefined): number | undefined {
  const value = text === undefined ? NaN : Number(text);
  return Number.isFinite(value) && value > 0 ? value : undefined;
}

function omePixelSize(xml: string, context: TiffPixelSizeContext): PixelSize | undefined {
  const tag = /<(?:\w+:)?Pixels\s[^>]*>/.exec(xml)?.[0];
  if (!tag) return undefined;
  const a = attributes(tag);
  const sizeZ = Number(a.get('SizeZ') ?? 1);
  if (context.pages > 1 && context.pages !== sizeZ) {
    throw new EmsegError('E_UNSUPPORTED', `${context.name}: an OME-TIFF of ${context.pages} planes with SizeZ=${sizeZ}, SizeC=${a.get('SizeC') ?? 1}, SizeT=${a.get('SizeT') ?? 1}; emseg reads one channel of one time point (a z stack)`);
  }
  const x = positive(a.get('PhysicalSizeX'));
  if (x === undefined) return undefined;
  const unitOf = (axis: string): string | undefined => UNIT_NAMES[a.get(`PhysicalSize${axis}Unit`) ?? 'µm'];
  const unit = unitOf('X');
  if (!unit) return undefined;
  const y = positive(a.get('PhysicalSizeY')) ?? x;
  const zValue = positive(a.get('PhysicalSizeZ'));
  const zUnit = unitOf('Z');
  const z = zValue !== undefined && zUnit ? Number(((zValue * METRES[zUnit]!) / METRES[unit]!).toPrecision(12)) : undefined;
  return z === undefined ? { x, y, unit } : { x, y, z, unit };
}

function imagejPixelSize(description: string, context: TiffPixelSizeContext): PixelSize | undefined {
  const field = (key: string): string | undefined => new RegExp(`^${key}=(.*)$`, 'm').exec(description)?.[1]?.trim();
  const unit = UNIT_NAMES[field('unit')?.replace(/\\u00B5/i, 'µ') ?? ''];
  const xr = context.xResolution[0];
  if (!unit || !xr || !(xr > 0)) return undefined;
  const yr = context.yResolution[0] && context.yResolution[0] > 0 ? context.yResolution[0] : xr;
  const z = positive(field('spacing'));
  return z === undefined ? { x: 1 / xr, y: 1 / yr, unit } : { x: 1 / xr, y: 1 / yr, z, unit };
}

export function pixelSizeFromDescription(description: string | undefined, context: TiffPixelSizeContext): PixelSize | undefined {
  if (!description) return undefined;
  if (description.includes('<OME') || /<\w+:OME[\s>]/.test(description)) return omePixelSize(description, context);
  if (description.startsWith('ImageJ=')) return imagejPixelSize(description, context);
  return undefined;
}

/** The OME-XML unit symbol of an NGFF unit name (e.g. 'nanometer' -> 'nm'); undefined for units OME lacks. */
export function omeUnitSymbol(unit: string): string | undefined {
  const symbols: Readonly<Record<string, string>> = {
    picometer: 'pm', angstrom: 'Å', nanometer: 'nm', micrometer: 'µm', millimeter: 'mm', centimeter: 'cm', meter: 'm',
  };
  return symbols[unit];
}

/** Metres in one `unit` (an NGFF unit name), or undefined for an unknown unit. */
export function metresPerUnit(unit: string): number | undefined {
  return METRES[unit];
}
