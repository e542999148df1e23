// Operands that stay in WebAssembly memory: a WasmArray is made once and read in place by
// every call that gets it; with `out`, the result stays there too. Run: node examples/wasm-array.mjs
import { WasmArray, init, matmul } from 'wasmformer';

await init();
const [m, k, n] = [4, 512, 256];
const weight = WasmArray.from(new Float32Array(k * n).fill(0.01)); // [K, N], copied in once
for (let call = 0; call < 3; call++) {
  const x = new Float32Array(m * k).fill(call); // [M, K], copied in per call
  const y = matmul(x, weight, { m, k, n }); // [M, N], a new Float32Array
  console.log(y[0].toFixed(2)); // 0.00, 5.12, 10.24
}
const ones = WasmArray.from(new Float32Array(m * k).fill(1));
const out = WasmArray.zeros(m * n);
matmul(ones, weight, { m, k, n, out }); // nothing copied in or out
console.log(out.toArray()[0].toFixed(2)); // 5.12
for (const array of [weight, ones, out]) array.dispose(); // frees their memory now
