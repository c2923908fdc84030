/**
 * The physical pixel size a TIFF states, in this order:
 * - OME-TIFF: the OME-XML `<Pixels PhysicalSizeX=... PhysicalSizeXUnit=...>` (unit default µm);
 * - ImageJ TIFF: `unit=` (and `spacing=` between slices) of the description with the
 *   XResolution/YResolution tags (pixels per unit);
 * - any TIFF: XResolution/YResolution with ResolutionUnit inch (2) or centimeter (3). ResolutionUnit
 *   none (1), or absent, states no length: what many tools write (1/1, 72/1) is no pixel size.
 * Units come out as OME-NGFF (UDUNITS) names, e.g. 'nanometer'; `from` says which of the three.
 * Also the other way: the ImageJ description lines and resolution tags that state a pixel size
 * (`imagejCalibration`), for the TIFF writer. Platform-neutral.
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
  /** ResolutionUnit tag value (1 none, 2 inch, 3 centimeter); absent = none. */
  resolutionUnit?: number | undefined;
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
  return z === undefined ? { x, y, unit, from: 'OME-XML' } : { x, y, z, unit, from: 'OME-XML' };
}

/** 1 / resolution, without the float noise of the division (1 / 0.125 stays 8). */
const reciprocal = (resolution: number): number => Number((1 / resolution).toPrecision(12));

function imagejPixelSize(description: string, context: TiffPixelSizeContext): PixelSize | undefined {
  const field = (key: string): string | undefined => new RegExp(`^${key}=(.*)$`, 'm').exec(description)?.[1]?.trim();
  const unit = UNIT_NAMES[field('unit')?.replace(/\\u00B5/i, 'µ') ?? ''];
  const xr = context.xResolution[0];
  if (!unit || !xr || !(xr > 0)) return undefined;
  const yr = context.yResolution[0] && context.yResolution[0] > 0 ? context.yResolution[0] : xr;
  const z = positive(field('spacing'));
  const size = { x: reciprocal(xr), y: reciprocal(yr), unit, from: 'ImageJ description' };
  return z === undefined ? size : { ...size, z };
}

/** XResolution/YResolution in pixels per inch or per centimeter, as nanometres per pixel; nothing for unit none. */
function resolutionTagPixelSize(context: TiffPixelSizeContext): PixelSize | undefined {
  const perUnit = context.resolutionUnit === 2 ? 2.54e7 : context.resolutionUnit === 3 ? 1e7 : undefined; // nm per inch, per cm
  const xr = context.xResolution[0];
  if (perUnit === undefined || !xr || !(xr > 0)) return undefined;
  const yr = context.yResolution[0] && context.yResolution[0] > 0 ? context.yResolution[0] : xr;
  const nm = (r: number) => Number((perUnit / r).toPrecision(12));
  return { x: nm(xr), y: nm(yr), unit: 'nanometer', from: `resolution tags (per ${context.resolutionUnit === 2 ? 'inch' : 'centimeter'})` };
}

/** The pixel size an OME-XML or ImageJ ImageDescription states (with the resolution tags it refers to). */
export function pixelSizeFromDescription(description: string | undefined, context: TiffPixelSizeContext): PixelSize | undefined {
  if (!description) return undefined;
  if (description.includes('<OME') || /<\w+:OME[\s>]/.test(description)) return omePixelSize(description, context);
  if (description.startsWith('ImageJ=')) return imagejPixelSize(description, context);
  return undefined;
}

/** The pixel size a TIFF page states: its description (OME-XML, ImageJ), else its resolution tags in inch or cm. */
export function pixelSizeFromTiffTags(description: string | undefined, context: TiffPixelSizeContext): PixelSize | undefined {
  return pixelSizeFromDescription(description, context) ?? resolutionTagPixelSize(context);
}

/** What the TIFF writer puts into a file to state `size` the way ImageJ/Fiji and tifffile read it. */
export interface ImagejCalibration {
  /** `unit=...` (and `spacing=...`) lines of the ImageJ description. */
  lines: string[];
  /** XResolution and YResolution: pixels per `unit`, as ImageJ writes them (ResolutionUnit none). */
  xResolution: number;
  yResolution: number;
}

/**
 * ImageJ's way to state a pixel size: `unit=nm` or `unit=micron` in the description and the
 * resolution tags in pixels per that unit (ImageJ and tifffile write ResolutionUnit none then, and
 * read the resolution in the description's unit whatever ResolutionUnit says). Undefined for an
 * unknown unit.
 */
export function imagejCalibration(size: PixelSize): ImagejCalibration | undefined {
  const metres = METRES[size.unit];
  if (metres === undefined) return undefined;
  const micron = size.unit !== 'nanometer' && size.unit !== 'angstrom' && size.unit !== 'picometer';
  const factor = metres / (micron ? 1e-6 : 1e-9);
  const inUnit = (v: number) => Number((v * factor).toPrecision(12));
  const lines = [`unit=${micron ? 'micron' : 'nm'}`];
  if (size.z !== undefined) lines.push(`spacing=${inUnit(size.z)}`);
  return { lines, xResolution: 1 / inUnit(size.x), yResolution: 1 / inUnit(size.y) };
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
