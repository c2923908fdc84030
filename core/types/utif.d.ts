/** The parts of utif (photopea/UTIF.js, no bundled types) that core/tiff.ts uses. */
declare module 'utif' {
  interface JpegDecoderInstance {
    width: number;
    height: number;
    parse(data: Uint8Array): void;
    getData(width: number, height: number): Uint8Array | Uint8ClampedArray;
  }
  interface UtifDecode {
    /** PackBits into tgt at toff; uses `data.buffer` and `tgt.buffer` directly, so pass arrays at byte offset 0. */
    _decodePackBits(data: Uint8Array, off: number, len: number, tgt: Uint8Array, toff: number): void;
  }
  const UTIF: {
    decode: UtifDecode;
    JpegDecoder: new () => JpegDecoderInstance;
  };
  export default UTIF;
}
