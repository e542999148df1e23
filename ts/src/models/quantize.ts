/**
 * The options of `quantize` ({@link GPT.quantize}, {@link BERT.quantize}) and their
 * validation, shared by both models.
 */
import { InvalidArgumentError } from '../errors.js';

/** Options of {@link GPT.quantize} and {@link BERT.quantize}. */
export interface QuantizeOptions {
  /**
   * `'int8'`: every linear layer's weight and the LM head as int8 with one scale per output
   * channel (`max|w| / 127`), multiplied with int16-quantised activations (W8A16).
   */
  weights: 'int8';
}

/**
 * Throws {@link InvalidArgumentError} unless `options` is exactly `{ weights: 'int8' }`
 * (an unknown key, such as a block size, is refused rather than ignored).
 */
export function checkQuantizeOptions(options: unknown): asserts options is QuantizeOptions {
  if (options === null || typeof options !== 'object') {
    throw new InvalidArgumentError("quantize: options must be an object, e.g. { weights: 'int8' }");
  }
  const unknown = Object.keys(options).filter((k) => k !== 'weights');
  if (unknown.length > 0) throw new InvalidArgumentError(`quantize: unknown option ${unknown[0]}`);
  const { weights } = options as { weights?: unknown };
  if (weights !== 'int8') throw new InvalidArgumentError(`quantize: weights must be 'int8', got ${String(weights)}`);
}
