/**
 * The options of `quantize` ({@link GPT.quantize}, {@link BERT.quantize}) and their
 * validation, shared by both models.
 */
import { InvalidArgumentError, callWasm } from '../errors.js';

/** Options of {@link GPT.quantize} and {@link BERT.quantize}. */
export interface QuantizeOptions {
  /**
   * `'int8'`: every linear layer's weight and the LM head as int8 (symmetric, `max|w| / 127`
   * per scale), multiplied with int16-quantised activations (W8A16).
   */
  weights: 'int8';
  /**
   * One scale per block of this many weights along the input dimension K (a multiple of 8
   * from 8 to 2048) instead of one per output channel (the default, and the faster one).
   * 32 is llama.cpp's GGUF `Q8_0` layout: a model loaded from a `Q8_0` file (`loadGguf`) and
   * quantised with `blockSize: 32` gets back exactly the file's int8 values.
   */
  blockSize?: number;
}

/** Largest scale block: the int8 kernels bound their i32 sums to this many values of K. */
const MAX_BLOCK = 2048;

/**
 * Throws {@link InvalidArgumentError} unless `options` is `{ weights: 'int8' }`, optionally
 * with a valid `blockSize` (an unknown key is refused rather than ignored). Returns the block
 * size the core takes: 0 for per-output-channel scales.
 */
export function checkQuantizeOptions(options: unknown): number {
  if (options === null || typeof options !== 'object') {
    throw new InvalidArgumentError("quantize: options must be an object, e.g. { weights: 'int8' }");
  }
  const unknown = Object.keys(options).filter((k) => k !== 'weights' && k !== 'blockSize');
  if (unknown.length > 0) throw new InvalidArgumentError(`quantize: unknown option ${unknown[0]}`);
  const { weights, blockSize } = options as { weights?: unknown; blockSize?: unknown };
  if (weights !== 'int8') throw new InvalidArgumentError(`quantize: weights must be 'int8', got ${String(weights)}`);
  if (blockSize === undefined) return 0;
  if (typeof blockSize !== 'number' || !Number.isInteger(blockSize) || blockSize < 8 || blockSize > MAX_BLOCK || blockSize % 8 !== 0) {
    throw new InvalidArgumentError(`quantize: blockSize must be a multiple of 8 from 8 to ${MAX_BLOCK}, got ${String(blockSize)}`);
  }
  return blockSize;
}

/** What {@link quantizeModel} needs of a model's wasm handle. */
interface Quantizable {
  quantizeInt8(block: number): number;
}

/**
 * The shared body of `quantize`: validates `options` (before anything else), takes the handle
 * (which throws `DisposedError` after `dispose()`), refuses a model already quantised, and
 * quantises in the core. Returns the bytes of the int8 weights and their scales.
 */
export function quantizeModel(options: unknown, handle: () => Quantizable, current: 'int8' | null): number {
  const block = checkQuantizeOptions(options);
  const h = handle();
  if (current !== null) throw new InvalidArgumentError('quantize: this model is already quantised to int8');
  return callWasm(() => h.quantizeInt8(block));
}
