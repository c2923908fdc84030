/**
 * ONNX bytes decoded into a ModelProto (onnx-proto): the one place that decodes a model file, for
 * the server (model card in the metadata), the converter's checks and the partner packages
 * (signature, opset). Platform-neutral (protobufjs).
 */
import onnxProto from 'onnx-proto';
import { EmsegError } from './errors.ts';

export type OnnxModelProto = onnxProto.onnx.ModelProto;

/** Decodes ONNX bytes; E_MODEL naming `what` when they are not an ONNX model with a graph. */
export function decodeOnnxModel(bytes: Uint8Array, what: string): OnnxModelProto {
  let model: OnnxModelProto;
  try {
    model = onnxProto.onnx.ModelProto.decode(bytes);
  } catch (error) {
    throw new EmsegError('E_MODEL', `${what}: not an ONNX model (${(error as Error).message})`, { cause: error });
  }
  if (!model.graph) throw new EmsegError('E_MODEL', `${what}: not an ONNX model (no graph)`);
  return model;
}

/** The metadata_props of a decoded model as key -> value. */
export function onnxMetadata(model: OnnxModelProto): Record<string, string> {
  return Object.fromEntries(model.metadataProps.map((entry) => [entry.key ?? '', entry.value ?? '']));
}
