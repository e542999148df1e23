/**
 * The decoders of SentencePiece-style BPE, as Hugging Face `tokenizers` chains them
 * (`decoders/{sequence,replace,byte_fallback,fuse,strip}.rs`, `pre_tokenizers/metaspace.rs`):
 * each step maps the list of token strings to a new list, and the result is joined. Special
 * tokens go through the chain as written, as in HF (so Llama's `<s>` then `▁Hello` decodes to
 * `<s> Hello`).
 */
import { InvalidArgumentError } from '../errors.js';
import type { BpeDecoderStep } from './bpe-pipeline.js';

const utf8Strict = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });

/** The byte of a `<0xNN>` token, as HF's ByteFallback reads it (`u8::from_str_radix`), or -1. */
function fallbackByte(token: string): number {
  if (token.length !== 6 || !token.startsWith('<0x') || !token.endsWith('>')) return -1;
  const digits = token.slice(3, 5);
  // Rust's from_str_radix accepts one leading '+'.
  if (!/^(?:[0-9a-fA-F]{2}|\+[0-9a-fA-F])$/.test(digits)) return -1;
  return Number.parseInt(digits, 16);
}

/** ByteFallback: runs of `<0xNN>` tokens become their UTF-8 text, or one U+FFFD per byte if invalid. */
function byteFallback(tokens: string[]): string[] {
  const out: string[] = [];
  let bytes: number[] = [];
  const flush = (): void => {
    if (bytes.length === 0) return;
    try {
      out.push(utf8Strict.decode(Uint8Array.from(bytes)));
    } catch {
      for (let i = 0; i < bytes.length; i++) out.push('\ufffd');
    }
    bytes = [];
  };
  for (const token of tokens) {
    const b = fallbackByte(token);
    if (b >= 0) {
      bytes.push(b);
    } else {
      flush();
      out.push(token);
    }
  }
  flush();
  return out;
}

/** Strip: removes up to `start` leading and `stop` trailing `content` characters of each token. */
function strip(tokens: string[], content: string, start: number, stop: number): string[] {
  return tokens.map((token) => {
    const chars = [...token];
    let from = 0;
    while (from < Math.min(start, chars.length) && chars[from] === content) from++;
    let to = chars.length;
    for (let i = 0; i < stop && to > from && chars[to - 1] === content; i++) to--;
    return chars.slice(from, to).join('');
  });
}

/**
 * Runs the decoder steps over token strings and joins the result.
 *
 * @param tokens - [N] token strings (special tokens as written).
 */
export function decodeChain(tokens: readonly string[], steps: readonly BpeDecoderStep[]): string {
  let list = [...tokens];
  for (const step of steps) {
    switch (step.type) {
      case 'Replace':
        list = list.map((t) => t.split(step.pattern).join(step.content));
        break;
      case 'ByteFallback':
        list = byteFallback(list);
        break;
      case 'Fuse':
        list = [list.join('')];
        break;
      case 'Strip':
        list = strip(list, step.content, step.start, step.stop);
        break;
      case 'Metaspace': {
        // Every replacement character of the first token is dropped unless the scheme is "never".
        const dropFirst = step.prependScheme !== 'never';
        list = list.map((t, i) => t.split(step.replacement).join(i === 0 && dropFirst ? '' : ' '));
        break;
      }
      case 'ByteLevel':
        // checkPipeline lets ByteLevel only stand alone, and BpeTokenizer.decode handles that case.
        throw new InvalidArgumentError('decodeChain: the ByteLevel decoder cannot be chained; BpeTokenizer.decode runs it directly');
    }
  }
  return list.join('');
}
