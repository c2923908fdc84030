/**
 * The rows of a slice montage: for each chosen slice, image | label | label overlaid on the image,
 * plus any extra columns a caller adds (`emseg evaluate` adds 'prediction' and 'errors').
 * Render the result with renderMontage (core/montage.ts).
 */
import type { ImageStack } from './image.ts';
import { assertSameShape } from './image.ts';
import type { MontageCell, MontageSpec } from './montage.ts';
import { MEMBRANE_OVERLAY, overlayMask, type OverlayOptions } from './overlay.ts';

export interface ExtraColumn {
  title: string;
  /** The cell for slice `slice` (an index into the stacks), or undefined to leave it empty. */
  cell: (slice: number) => MontageCell | undefined;
}

export interface SliceMontageInput {
  images: ImageStack;
  /** Ground-truth labels; without them only the image column (and extras) are shown. */
  labels?: ImageStack;
  /** Slice indices, in display order. */
  slices: readonly number[];
  /** Names used in size-mismatch errors. Default 'images' and 'labels'. */
  imagesName?: string;
  labelsName?: string;
  /** How the label is drawn over the image. Default: membranes (label 0) in red at alpha 0.5. */
  overlay?: OverlayOptions;
  /** Titles of the image, label and overlay columns. Default 'image', 'label', 'overlay (red = membrane)'. */
  titles?: readonly [string, string, string];
  extraColumns?: readonly ExtraColumn[];
}

export const DEFAULT_LABEL_OVERLAY: OverlayOptions = MEMBRANE_OVERLAY;

const DEFAULT_TITLES = ['image', 'label', 'overlay (red = membrane)'] as const;

export function sliceMontageSpec(input: SliceMontageInput): MontageSpec {
  const { images, labels, slices } = input;
  if (labels) assertSameShape(images, input.imagesName ?? 'images', labels, input.labelsName ?? 'labels');
  const extra = input.extraColumns ?? [];
  const titles = input.titles ?? (input.overlay ? ['image', 'label', 'overlay'] : DEFAULT_TITLES);
  const columns = [...(labels ? titles : titles.slice(0, 1)), ...extra.map((column) => column.title)];
  const rows = slices.map((slice) => {
    const image = images.pages[slice];
    if (!image) throw new RangeError(`slices: ${slice} is outside the stack (0-${images.pages.length - 1})`);
    const cells: (MontageCell | undefined)[] = [image];
    const label = labels?.pages[slice];
    if (label) cells.push(label, overlayMask(image, label, input.overlay ?? DEFAULT_LABEL_OVERLAY));
    for (const column of extra) cells.push(column.cell(slice));
    return { label: `slice ${slice}`, cells };
  });
  return { columns, rows };
}
