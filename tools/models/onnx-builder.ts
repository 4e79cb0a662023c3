/**
 * Small helpers over `onnx-proto` (protobufjs ModelProto classes for ONNX 1.10) to build a
 * graph from plain objects: nodes, float/int64 initializers, value infos, and the final
 * serialisation. Nothing here knows about Keras.
 */
import onnxProto from 'onnx-proto';
import type { onnx as OnnxNs } from 'onnx-proto';

const { onnx } = onnxProto;

export type NodeProto = OnnxNs.INodeProto;
export type TensorProto = OnnxNs.ITensorProto;
export type ValueInfoProto = OnnxNs.IValueInfoProto;

export type AttrValue = number | string | number[] | { float: number } | { floats: number[] };

/** Numbers and number arrays become INT/INTS; floats must be wrapped: `{ float }`, `{ floats }`. */
function attribute(name: string, value: AttrValue): OnnxNs.IAttributeProto {
  const T = onnx.AttributeProto.AttributeType;
  if (typeof value === 'string') return { name, type: T.STRING, s: new TextEncoder().encode(value) };
  if (typeof value === 'number') {
    if (!Number.isInteger(value)) throw new Error(`attribute ${name}: ${value} is not an integer; wrap floats`);
    return { name, type: T.INT, i: value };
  }
  if (Array.isArray(value)) return { name, type: T.INTS, ints: value };
  if ('float' in value) return { name, type: T.FLOAT, f: value.float };
  return { name, type: T.FLOATS, floats: value.floats };
}

export function node(
  opType: string,
  inputs: string[],
  outputs: string[],
  name: string,
  attrs: Record<string, AttrValue> = {},
): NodeProto {
  return {
    opType,
    input: inputs,
    output: outputs,
    name,
    attribute: Object.entries(attrs).map(([k, v]) => attribute(k, v)),
  };
}

/** ONNX raw_data is little-endian whatever the host: write it explicitly. */
export function floatTensor(name: string, dims: number[], data: Float32Array | number[]): TensorProto {
  const n = dims.reduce((a, b) => a * b, 1);
  if (data.length !== n) throw new Error(`initializer ${name}: ${data.length} values for dims [${dims}]`);
  const raw = new Uint8Array(n * 4);
  const view = new DataView(raw.buffer);
  for (let i = 0; i < n; i++) view.setFloat32(i * 4, data[i], true);
  return { name, dims, dataType: onnx.TensorProto.DataType.FLOAT, rawData: raw };
}

export function int64Tensor(name: string, dims: number[], data: number[]): TensorProto {
  return { name, dims, dataType: onnx.TensorProto.DataType.INT64, int64Data: data };
}

/** A float tensor value info; a dim is a fixed size (number), a symbol (string) or unknown (null). */
export function floatValueInfo(name: string, dims: (number | string | null)[]): ValueInfoProto {
  return {
    name,
    type: {
      tensorType: {
        elemType: onnx.TensorProto.DataType.FLOAT,
        shape: {
          dim: dims.map((d) => (typeof d === 'number' ? { dimValue: d } : typeof d === 'string' ? { dimParam: d } : {})),
        },
      },
    },
  };
}

/** ONNX IR version that goes with an ai.onnx opset (onnx/helper.py VERSION_TABLE). */
export function irVersionFor(opset: number): number {
  if (opset <= 8) return 3;
  if (opset <= 10) return 5;
  if (opset === 11) return 6;
  if (opset <= 14) return 7;
  if (opset <= 18) return 8;
  if (opset <= 20) return 9;
  return 10;
}

export interface ModelParts {
  opset: number;
  graphName: string;
  producerName: string;
  docString: string;
  nodes: NodeProto[];
  initializers: TensorProto[];
  inputs: ValueInfoProto[];
  outputs: ValueInfoProto[];
  metadata?: Record<string, string>;
}

/** Serialised ModelProto. No timestamps or random ids: the same parts give the same bytes. */
export function encodeModel(p: ModelParts): Uint8Array {
  const model: OnnxNs.IModelProto = {
    irVersion: irVersionFor(p.opset),
    opsetImport: [{ domain: '', version: p.opset }],
    producerName: p.producerName,
    docString: p.docString,
    metadataProps: Object.entries(p.metadata ?? {}).map(([key, value]) => ({ key, value })),
    graph: {
      name: p.graphName,
      node: p.nodes,
      initializer: p.initializers,
      input: p.inputs,
      output: p.outputs,
    },
  };
  return onnx.ModelProto.encode(model).finish();
}
