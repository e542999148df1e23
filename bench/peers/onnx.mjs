// A minimal ONNX (protobuf) writer for the onnxruntime-web peers: enough to build small graphs
// by hand (float32 value infos, int / ints attributes, float initializers), no dependency.

// Protobuf: varint fields (wire type 0) and length-delimited fields (wire type 2).
const varint = (v) => {
  const out = [];
  let x = BigInt(v);
  do {
    let b = Number(x & 0x7fn);
    x >>= 7n;
    if (x) b |= 0x80;
    out.push(b);
  } while (x);
  return out;
};
export const fInt = (field, v) => [...varint((field << 3) | 0), ...varint(v)];
export const fBytes = (field, bytes) => [...varint((field << 3) | 2), ...varint(bytes.length), ...bytes];
export const fStr = (field, s) => fBytes(field, [...new TextEncoder().encode(s)]);

/** ValueInfoProto{name=1, type=2: TypeProto{tensor_type=1: {elem_type=1 (FLOAT=1), shape=2: {dim=1: {dim_value=1}}}}} */
export const valueInfo = (name, dims) => [
  ...fStr(1, name),
  ...fBytes(
    2,
    fBytes(1, [
      ...fInt(1, 1),
      ...fBytes(
        2,
        dims.flatMap((d) => fBytes(1, fInt(1, d))),
      ),
    ]),
  ),
];
/** AttributeProto{name=1, i=3, type=20 (INT=2)} */
export const intAttr = (name, v) => [...fStr(1, name), ...fInt(3, v), ...fInt(20, 2)];
/** AttributeProto{name=1, ints=8 (repeated), type=20 (INTS=7)} */
export const intsAttr = (name, values) => [...fStr(1, name), ...values.flatMap((v) => fInt(8, v)), ...fInt(20, 7)];
/** TensorProto{dims=1, data_type=2 (FLOAT=1), name=8, raw_data=9 (little-endian)}: a small float initializer. */
export const floatTensor = (name, dims, values) => [
  ...dims.flatMap((d) => fInt(1, d)),
  ...fInt(2, 1),
  ...fStr(8, name),
  ...fBytes(9, [...new Uint8Array(Float32Array.from(values).buffer)]),
];

/** NodeProto{input=1, output=2, name=3, op_type=4, attribute=5}; `attrs`: encoded AttributeProtos. */
export const node = (inputs, outputs, name, opType, attrs = []) => [
  ...inputs.flatMap((i) => fStr(1, i)),
  ...outputs.flatMap((o) => fStr(2, o)),
  ...fStr(3, name),
  ...fStr(4, opType),
  ...attrs.flatMap((a) => fBytes(5, a)),
];

/**
 * ModelProto{ir_version=1: 8, producer_name=2, graph=7, opset_import=8: {domain=1 "", version=2: 13}}
 * around GraphProto{node=1, name=2, initializer=5, input=11, output=12}.
 * `inputs`, `outputs`: [name, dims] pairs; `initializers`: encoded TensorProtos.
 */
export function model({ nodes, inputs, outputs, initializers = [] }) {
  const graph = [
    ...nodes.flatMap((n) => fBytes(1, n)),
    ...fStr(2, 'g'),
    ...initializers.flatMap((t) => fBytes(5, t)),
    ...inputs.flatMap(([name, dims]) => fBytes(11, valueInfo(name, dims))),
    ...outputs.flatMap(([name, dims]) => fBytes(12, valueInfo(name, dims))),
  ];
  return new Uint8Array([...fInt(1, 8), ...fStr(2, 'wasmformer-bench'), ...fBytes(7, graph), ...fBytes(8, fInt(2, 13))]);
}
