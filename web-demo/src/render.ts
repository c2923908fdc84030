/**
 * Drawing the demo's pictures on canvases: the input in grey, the probability heat map, the mask
 * blended over the input (core/overlay.ts, the same overlay the server returns).
 */
import type { GreyImage } from '../../core/image.ts';
import { MEMBRANE_OVERLAY, overlayMask } from '../../core/overlay.ts';
import { toDisplayBytes, type RgbImage } from '../../core/rgb-image.ts';
import { heatMap, heatLegend } from './heatmap.ts';

function toRgba(picture: RgbImage): Uint8ClampedArray<ArrayBuffer> {
  if (picture.channels === 4) return new Uint8ClampedArray(picture.data.buffer as ArrayBuffer, picture.data.byteOffset, picture.data.byteLength);
  const rgba = new Uint8ClampedArray(picture.width * picture.height * 4);
  for (let i = 0, o = 0; o < rgba.length; i += 3, o += 4) {
    rgba[o] = picture.data[i]!;
    rgba[o + 1] = picture.data[i + 1]!;
    rgba[o + 2] = picture.data[i + 2]!;
    rgba[o + 3] = 255;
  }
  return rgba;
}

/** Resizes the canvas to the picture and draws it pixel for pixel. */
export function drawPicture(canvas: HTMLCanvasElement, picture: RgbImage): void {
  if (canvas.width !== picture.width) canvas.width = picture.width;
  if (canvas.height !== picture.height) canvas.height = picture.height;
  const context = canvas.getContext('2d');
  if (!context) return;
  context.putImageData(new ImageData(toRgba(picture), picture.width, picture.height), 0, 0);
}

export function drawGrey(canvas: HTMLCanvasElement, image: GreyImage): void {
  const grey = toDisplayBytes(image);
  const data = new Uint8Array(grey.length * 4);
  for (let i = 0, o = 0; i < grey.length; i += 1, o += 4) {
    data[o] = grey[i]!;
    data[o + 1] = grey[i]!;
    data[o + 2] = grey[i]!;
    data[o + 3] = 255;
  }
  drawPicture(canvas, { width: image.width, height: image.height, channels: 4, data });
}

export function drawHeatMap(canvas: HTMLCanvasElement, probability: GreyImage<Float32Array>): void {
  drawPicture(canvas, heatMap(probability));
}

export function drawOverlay(canvas: HTMLCanvasElement, image: GreyImage, mask: GreyImage, opacity: number): void {
  drawPicture(canvas, overlayMask(image, mask, { ...MEMBRANE_OVERLAY, alpha: opacity, output: 'rgba' }));
}

export function drawLegend(canvas: HTMLCanvasElement): void {
  drawPicture(canvas, heatLegend(canvas.width, canvas.height));
}

/** A blank (dark) canvas of the image's size, for results not computed yet. */
export function clearCanvas(canvas: HTMLCanvasElement, width: number, height: number): void {
  canvas.width = width;
  canvas.height = height;
  const context = canvas.getContext('2d');
  if (!context) return;
  context.fillStyle = '#222';
  context.fillRect(0, 0, width, height);
}
