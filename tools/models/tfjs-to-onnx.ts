/**
 * Keras (TensorFlow.js layers) → ONNX converter for MobileNet-style backbones: InputLayer,
 * ZeroPadding2D, Conv2D, DepthwiseConv2D, BatchNormalization, ReLU (optionally capped) and
 * Add. The graph takes NCHW float32 with symbolic batch/height/width and has one output
 * per requested tap (`tap_<layer>`, NCHW); layers no tap needs (the classifier head) are
 * pruned, so head layer types need no support.
 *
 * Rewrites, all exact in real arithmetic (weights are computed in double, stored float32):
 *  - BatchNormalization folds into the preceding linear convolution when that convolution
 *    feeds only the BN and is not itself a tap: W' = W·γ/√(σ²+ε), b' = (b−μ)·γ/√(σ²+ε)+β.
 *  - ZeroPadding2D folds into the next 'valid' convolution's `pads` when that is its only
 *    consumer. Keras' MobileNetV2 pads (0,1)/(0,1) before stride-2 convs — the same as TF
 *    SAME on even sizes, which every stage has for inputs that are multiples of 32.
 *  - 'same' padding: explicit symmetric pads at stride 1 (size-independent); auto_pad
 *    SAME_UPPER (= TF SAME) at larger strides, so any input size works.
 */
import { loadTfjsLayersModel, readTfjsArtifacts, type TfjsLayersModel, type WeightTensor } from './tfjs-model.js';
import { encodeModel, floatTensor, floatValueInfo, int64Tensor, node, type AttrValue, type NodeProto, type TensorProto } from './onnx-builder.js';

export { loadTfjsLayersModel, readTfjsArtifacts };
export type { TfjsLayersModel };

/** Stride-4/8/16/32 block outputs of MobileNetV2 (see models/README.md). */
export const DEFAULT_TAPS: readonly string[] = ['block_2_add', 'block_5_add', 'block_12_add', 'block_15_add'];

export interface ConvertOptions {
  taps: readonly string[];
  /** ai.onnx opset, 11 or later (Clip/Pad take tensors from 11 on). Default 13. */
  opset?: number;
  inputName?: string;
  docString?: string;
  metadata?: Record<string, string>;
}

export interface TapInfo {
  output: string;
  name: string;
  channels: number;
  stride: number;
}

interface Layer {
  name: string;
  cls: string;
  config: Record<string, unknown>;
  inputs: string[];
}

const CONVS = new Set(['Conv2D', 'DepthwiseConv2D']);
export const tapOutputName = (layer: string): string => `tap_${layer}`;

function parseLayers(model: TfjsLayersModel): Map<string, Layer> {
  const layers = new Map<string, Layer>();
  for (const l of model.topology.model_config.config.layers) {
    const nodes = l.inbound_nodes as [string, number, number, unknown][][];
    if (nodes.length > 1) throw new Error(`layer ${l.name}: shared layers are not supported`);
    const inputs = (nodes[0] ?? []).map(([name, , tensorIndex]) => {
      if (tensorIndex !== 0) throw new Error(`layer ${l.name}: multi-output inbound ${name} not supported`);
      return name;
    });
    const fmt = l.config.data_format;
    if (fmt !== undefined && fmt !== 'channels_last') throw new Error(`layer ${l.name}: data_format ${String(fmt)} not supported`);
    layers.set(l.name, { name: l.name, cls: l.class_name, config: l.config, inputs });
  }
  return layers;
}

/** Layers the taps depend on, in topology (Keras list) order. */
function neededLayers(layers: Map<string, Layer>, taps: readonly string[]): Layer[] {
  const need = new Set<string>();
  const stack = [...taps];
  while (stack.length) {
    const name = stack.pop()!;
    const layer = layers.get(name);
    if (!layer) throw new Error(`unknown layer ${name} (tap or input); layers: ${[...layers.keys()].join(', ')}`);
    if (need.has(name)) continue;
    need.add(name);
    stack.push(...layer.inputs);
  }
  return [...layers.values()].filter((l) => need.has(l.name));
}

const pair = (v: unknown, what: string): [number, number] => {
  const a = Array.isArray(v) ? (v as number[]) : [v as number, v as number];
  if (a.length !== 2 || !a.every(Number.isInteger)) throw new Error(`${what}: expected two integers, got ${JSON.stringify(v)}`);
  return [a[0], a[1]];
};

/** ZeroPadding2D padding as [top, bottom, left, right]; Keras allows int, [h, w] or [[t, b], [l, r]]. */
function padAmounts(l: Layer): [number, number, number, number] {
  const p = l.config.padding;
  if (Array.isArray(p) && Array.isArray(p[0])) {
    const [h, w] = [pair(p[0], l.name), pair(p[1], l.name)];
    return [h[0], h[1], w[0], w[1]];
  }
  const [h, w] = pair(p, l.name);
  return [h, h, w, w];
}

function weight(model: TfjsLayersModel, name: string): WeightTensor {
  const w = model.weights.get(name);
  if (!w) throw new Error(`weight ${name} missing from the weights manifest`);
  return w;
}

/** Output channels and cumulative stride of every needed layer. */
function geometry(model: TfjsLayersModel, needed: Layer[]): Map<string, { channels: number; stride: number }> {
  const geo = new Map<string, { channels: number; stride: number }>();
  for (const l of needed) {
    const src = geo.get(l.inputs[0] ?? '');
    if (l.cls === 'InputLayer') {
      const shape = l.config.batch_input_shape as (number | null)[];
      geo.set(l.name, { channels: shape[shape.length - 1] ?? 3, stride: 1 });
    } else if (!src) {
      throw new Error(`layer ${l.name}: no input`);
    } else if (CONVS.has(l.cls)) {
      const [sh, sw] = pair(l.config.strides, `${l.name} strides`);
      if (sh !== sw) throw new Error(`layer ${l.name}: non-square strides not supported`);
      const channels = l.cls === 'Conv2D' ? (l.config.filters as number) : src.channels * ((l.config.depth_multiplier as number) ?? 1);
      geo.set(l.name, { channels, stride: src.stride * sh });
    } else {
      geo.set(l.name, { ...src });
    }
  }
  return geo;
}

export function describeTaps(model: TfjsLayersModel, taps: readonly string[]): TapInfo[] {
  const geo = geometry(model, neededLayers(parseLayers(model), taps));
  return taps.map((name) => ({ output: tapOutputName(name), name, ...geo.get(name)! }));
}

/** Keras kernels → ONNX OIHW: Conv2D [kh,kw,in,out]; DepthwiseConv2D [kh,kw,in,mult] → [in·mult,1,kh,kw]. */
function onnxKernel(l: Layer, k: WeightTensor): { data: Float32Array; dims: number[]; group: number } {
  const [kh, kw, cin, last] = k.shape;
  const src = k.data;
  const data = new Float32Array(src.length);
  const depthwise = l.cls === 'DepthwiseConv2D';
  const cout = depthwise ? cin * last : last;
  for (let y = 0; y < kh; y++)
    for (let x = 0; x < kw; x++)
      for (let i = 0; i < cin; i++)
        for (let j = 0; j < last; j++) {
          const s = ((y * kw + x) * cin + i) * last + j;
          const o = depthwise ? i * last + j : j;
          const ci = depthwise ? 0 : i;
          data[((o * (depthwise ? 1 : cin) + ci) * kh + y) * kw + x] = src[s];
        }
  return { data, dims: [cout, depthwise ? 1 : cin, kh, kw], group: depthwise ? cin : 1 };
}

/** γ, β, μ, σ² of a BatchNormalization layer (γ = 1 / β = 0 when scale / center is off). */
function bnParams(model: TfjsLayersModel, bn: Layer, channels: number) {
  const axis = bn.config.axis;
  if (axis !== -1 && axis !== 3 && !(Array.isArray(axis) && axis.length === 1 && (axis[0] === -1 || axis[0] === 3))) {
    throw new Error(`layer ${bn.name}: BatchNormalization axis ${JSON.stringify(axis)} not supported`);
  }
  const get = (w: string, on: boolean, fill: number) => (on ? weight(model, `${bn.name}/${w}`).data : new Float32Array(channels).fill(fill));
  return {
    gamma: get('gamma', bn.config.scale !== false, 1),
    beta: get('beta', bn.config.center !== false, 0),
    mean: weight(model, `${bn.name}/moving_mean`).data,
    variance: weight(model, `${bn.name}/moving_variance`).data,
    epsilon: (bn.config.epsilon as number) ?? 1e-3,
  };
}

/** Conv attributes; `prePad` is a folded ZeroPadding2D as [top, bottom, left, right]. */
function convAttrs(l: Layer, group: number, prePad: [number, number, number, number] | undefined): Record<string, AttrValue> {
  const [kh, kw] = pair(l.config.kernel_size, `${l.name} kernel_size`);
  const [dh, dw] = pair(l.config.dilation_rate ?? 1, `${l.name} dilation_rate`);
  const [sh, sw] = pair(l.config.strides, `${l.name} strides`);
  const base = { kernel_shape: [kh, kw], strides: [sh, sw], dilations: [dh, dw], group };
  if (l.config.padding === 'valid') {
    const [t, b, left, r] = prePad ?? [0, 0, 0, 0];
    return { ...base, pads: [t, left, b, r] };
  }
  if (l.config.padding !== 'same' || prePad) throw new Error(`layer ${l.name}: padding ${String(l.config.padding)} not supported`);
  if (sh > 1 || sw > 1) return { ...base, auto_pad: 'SAME_UPPER' };
  // TF SAME at stride 1: total k−1 (dilated), the odd pixel goes after (bottom/right).
  const [th, tw] = [dh * (kh - 1), dw * (kw - 1)];
  return { ...base, pads: [th >> 1, tw >> 1, th - (th >> 1), tw - (tw >> 1)] };
}

/** Serialised ONNX ModelProto with one output per tap. */
export function convertToOnnx(model: TfjsLayersModel, opts: ConvertOptions): Uint8Array {
  const opset = opts.opset ?? 13;
  if (opset < 11) throw new Error(`opset ${opset}: 11 or later required`);
  if (opts.taps.length === 0 || new Set(opts.taps).size !== opts.taps.length) throw new Error('taps: a non-empty list of distinct layer names');
  const inputName = opts.inputName ?? 'pixels';
  const layers = parseLayers(model);
  const needed = neededLayers(layers, opts.taps);
  const geo = geometry(model, needed);
  const taps = new Set(opts.taps);
  const consumers = new Map<string, Layer[]>(needed.map((l) => [l.name, []]));
  for (const l of needed) for (const i of l.inputs) consumers.get(i)!.push(l);

  // Fold decisions (see header). A tap keeps its own tensor, so it is never folded away.
  const bnOf = new Map<string, Layer>();
  const padOf = new Map<string, [number, number, number, number]>();
  const absorbed = new Set<string>();
  for (const l of needed) {
    const only = consumers.get(l.name)!.length === 1 ? consumers.get(l.name)![0] : undefined;
    if (!only || taps.has(l.name)) continue;
    if (CONVS.has(l.cls) && only.cls === 'BatchNormalization' && (l.config.activation ?? 'linear') === 'linear') {
      bnOf.set(l.name, only);
      absorbed.add(only.name);
    } else if (l.cls === 'ZeroPadding2D' && CONVS.has(only.cls) && only.config.padding === 'valid') {
      padOf.set(only.name, padAmounts(l));
      absorbed.add(l.name);
    }
  }

  const nodes: NodeProto[] = [];
  const inits: TensorProto[] = [];
  const tensor = new Map<string, string>();
  const outName = (l: Layer) => (taps.has(l.name) ? tapOutputName(l.name) : l.name);
  const inputOf = (l: Layer, k = 0) => tensor.get(l.inputs[k])!;
  const constant = (name: string, make: () => TensorProto) => {
    if (!inits.some((t) => t.name === name)) inits.push(make());
    return name;
  };

  for (const l of needed) {
    const out = outName(l);
    if (l.cls === 'InputLayer') {
      tensor.set(l.name, inputName);
      if (taps.has(l.name)) nodes.push(node('Identity', [inputName], [out], l.name));
      continue;
    }
    if (absorbed.has(l.name)) {
      // A folded pad passes its input through; a folded BN's tensor was set by its conv.
      if (l.cls === 'ZeroPadding2D') tensor.set(l.name, inputOf(l));
      continue;
    }
    switch (l.cls) {
      case 'ZeroPadding2D': {
        const [t, b, left, r] = padAmounts(l);
        const pads = constant(`${l.name}/pads`, () => int64Tensor(`${l.name}/pads`, [8], [0, 0, t, left, 0, 0, b, r]));
        nodes.push(node('Pad', [inputOf(l), pads], [out], l.name, { mode: 'constant' }));
        break;
      }
      case 'Conv2D':
      case 'DepthwiseConv2D': {
        if (l.cls === 'Conv2D' && ((l.config.groups as number | undefined) ?? 1) !== 1) throw new Error(`layer ${l.name}: grouped Conv2D not supported`);
        const act = (l.config.activation as string | undefined) ?? 'linear';
        if (act !== 'linear' && act !== 'relu') throw new Error(`layer ${l.name}: activation ${act} not supported`);
        const kernel = onnxKernel(l, weight(model, `${l.name}/${l.cls === 'Conv2D' ? 'kernel' : 'depthwise_kernel'}`));
        const cout = kernel.dims[0];
        const perOut = kernel.data.length / cout;
        const bias = l.config.use_bias ? Float64Array.from(weight(model, `${l.name}/bias`).data) : new Float64Array(cout);
        const bn = bnOf.get(l.name);
        if (bn) {
          const p = bnParams(model, bn, cout);
          for (let o = 0; o < cout; o++) {
            const s = p.gamma[o] / Math.sqrt(p.variance[o] + p.epsilon);
            for (let i = o * perOut; i < (o + 1) * perOut; i++) kernel.data[i] = kernel.data[i] * s;
            bias[o] = (bias[o] - p.mean[o]) * s + p.beta[o];
          }
        }
        const ins = [inputOf(l), constant(`${l.name}/W`, () => floatTensor(`${l.name}/W`, kernel.dims, kernel.data))];
        if (bn || l.config.use_bias) ins.push(constant(`${l.name}/B`, () => floatTensor(`${l.name}/B`, [cout], Float32Array.from(bias))));
        const final = bn ? outName(bn) : out;
        const convOut = act === 'relu' ? `${l.name}/linear` : final;
        nodes.push(node('Conv', ins, [convOut], l.name, convAttrs(l, kernel.group, padOf.get(l.name))));
        if (act === 'relu') nodes.push(node('Relu', [convOut], [final], `${l.name}/relu`));
        if (bn) tensor.set(bn.name, final);
        break;
      }
      case 'BatchNormalization': {
        const c = geo.get(l.name)!.channels;
        const p = bnParams(model, l, c);
        const names = (['gamma', 'beta', 'mean', 'variance'] as const).map((k) =>
          constant(`${l.name}/${k}`, () => floatTensor(`${l.name}/${k}`, [c], p[k])),
        );
        nodes.push(node('BatchNormalization', [inputOf(l), ...names], [out], l.name, { epsilon: { float: p.epsilon } }));
        break;
      }
      case 'ReLU': {
        const max = l.config.max_value as number | null | undefined;
        if ((l.config.negative_slope ?? 0) !== 0 || (l.config.threshold ?? 0) !== 0) throw new Error(`layer ${l.name}: leaky/thresholded ReLU not supported`);
        if (max === null || max === undefined) {
          nodes.push(node('Relu', [inputOf(l)], [out], l.name));
        } else {
          const lo = constant('clip/min_0', () => floatTensor('clip/min_0', [], [0]));
          const hi = constant(`clip/max_${max}`, () => floatTensor(`clip/max_${max}`, [], [max]));
          nodes.push(node('Clip', [inputOf(l), lo, hi], [out], l.name));
        }
        break;
      }
      case 'Add':
        nodes.push(node(l.inputs.length === 2 ? 'Add' : 'Sum', l.inputs.map((_, k) => inputOf(l, k)), [out], l.name));
        break;
      default:
        throw new Error(`layer ${l.name}: type ${l.cls} not supported`);
    }
    if (!tensor.has(l.name)) tensor.set(l.name, out);
  }

  const inputLayer = needed.find((l) => l.cls === 'InputLayer');
  if (!inputLayer) throw new Error('taps do not depend on an InputLayer');
  return encodeModel({
    opset,
    graphName: model.topology.model_config.config.name ?? 'keras',
    producerName: 'anomalygpt-edge models/tfjs-to-onnx.ts',
    docString: opts.docString ?? '',
    metadata: opts.metadata,
    nodes,
    initializers: inits,
    inputs: [floatValueInfo(inputName, ['batch', geo.get(inputLayer.name)!.channels, 'height', 'width'])],
    outputs: opts.taps.map((t) => floatValueInfo(tapOutputName(t), ['batch', geo.get(t)!.channels, null, null])),
  });
}
