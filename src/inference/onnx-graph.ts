/**
 * A small ONNX graph builder over onnx-proto (protobufjs): enough to write the graphs the
 * runtime builds itself (the recipe's patch scorer). Opset 17 keeps `axes` as attributes on
 * the Reduce* ops and is supported by every onnxruntime we target (Jetson builds included).
 */
import onnxProto from 'onnx-proto';

const { onnx } = onnxProto;
/**
 * A plain JS number is INT when integer-valued, FLOAT otherwise; wrap it as `{ float: v }` to
 * force FLOAT (e.g. an epsilon of 1 or 0).
 */
type Attr = number | number[] | string | Float32Array | { float: number };

/** Element type of a graph input or output (default float32). */
export type ElemType = 'float32' | 'int64' | 'bool';
/** A graph input/output dimension: fixed size, -k for the symbolic `dk`, or a symbolic name. */
export type Dim = number | string;

export const OPSET = 17;

export class GraphBuilder {
  private readonly nodes: onnxProto.onnx.INodeProto[] = [];
  private readonly initializers: onnxProto.onnx.ITensorProto[] = [];
  private readonly inputs: onnxProto.onnx.IValueInfoProto[] = [];
  private readonly outputs: onnxProto.onnx.IValueInfoProto[] = [];
  private counter = 0;

  constructor(private readonly name: string) {}

  /** `dims`: a positive size is fixed; a negative one -k becomes the symbolic dim `dk`; a string is a named symbolic dim. */
  input(name: string, dims: readonly Dim[], elemType: ElemType = 'float32'): string {
    this.inputs.push(valueInfo(name, dims, elemType));
    return name;
  }

  output(name: string, dims: readonly Dim[], elemType: ElemType = 'float32'): void {
    this.outputs.push(valueInfo(name, dims, elemType));
  }

  /** A 0-d int64 constant (the scalar operands of Range, Gather with a scalar index, ...). */
  int64Scalar(value: number, name = this.fresh('s')): string {
    const data = BigInt64Array.of(BigInt(value));
    this.initializers.push({
      name,
      dims: [],
      dataType: onnx.TensorProto.DataType.INT64,
      rawData: new Uint8Array(data.buffer),
    });
    return name;
  }

  /** A float32 constant. The bytes are referenced, not copied, until `toBytes()`. */
  floats(data: Float32Array, dims: readonly number[], name = this.fresh('c')): string {
    this.initializers.push({
      name,
      dims: [...dims],
      dataType: onnx.TensorProto.DataType.FLOAT,
      rawData: new Uint8Array(data.buffer, data.byteOffset, data.byteLength),
    });
    return name;
  }

  ints(values: readonly number[], name = this.fresh('i')): string {
    const data = BigInt64Array.from(values.map((v) => BigInt(v)));
    this.initializers.push({
      name,
      dims: [values.length],
      dataType: onnx.TensorProto.DataType.INT64,
      rawData: new Uint8Array(data.buffer),
    });
    return name;
  }

  /** Adds a node and returns its (single) output name. */
  op(opType: string, inputs: readonly string[], attrs: Record<string, Attr> = {}, out = this.fresh(opType.toLowerCase())): string {
    this.nodes.push({
      opType,
      input: [...inputs],
      output: [out],
      name: `${out}_node`,
      attribute: Object.entries(attrs).map(([k, v]) => attribute(k, v)),
    });
    return out;
  }

  toBytes(): Uint8Array {
    const model = onnx.ModelProto.create({
      irVersion: 8,
      producerName: 'anomalygpt-edge',
      opsetImport: [{ domain: '', version: OPSET }],
      graph: {
        name: this.name,
        node: this.nodes,
        initializer: this.initializers,
        input: this.inputs,
        output: this.outputs,
      },
    });
    return onnx.ModelProto.encode(model).finish();
  }

  private fresh(prefix: string): string {
    this.counter += 1;
    return `${prefix}_${this.counter}`;
  }
}

const ELEM_TYPES: Record<ElemType, number> = {
  float32: onnx.TensorProto.DataType.FLOAT,
  int64: onnx.TensorProto.DataType.INT64,
  bool: onnx.TensorProto.DataType.BOOL,
};

function valueInfo(name: string, dims: readonly Dim[], elemType: ElemType): onnxProto.onnx.IValueInfoProto {
  return {
    name,
    type: {
      tensorType: {
        elemType: ELEM_TYPES[elemType],
        shape: { dim: dims.map((d) => (typeof d === 'string' ? { dimParam: d } : d > 0 ? { dimValue: d } : { dimParam: `d${-d}` })) },
      },
    },
  };
}

function attribute(name: string, v: Attr): onnxProto.onnx.IAttributeProto {
  const T = onnx.AttributeProto.AttributeType;
  if (typeof v === 'string') return { name, type: T.STRING, s: new TextEncoder().encode(v) };
  if (typeof v === 'number') {
    return Number.isInteger(v) ? { name, type: T.INT, i: v } : { name, type: T.FLOAT, f: v };
  }
  if (v instanceof Float32Array) return { name, type: T.FLOATS, floats: [...v] };
  if (Array.isArray(v)) return { name, type: T.INTS, ints: [...v] };
  return { name, type: T.FLOAT, f: v.float };
}
