/**
 * The BPE model of Hugging Face `tokenizers` (`models/bpe/model.rs`, `merge_word` and
 * `tokenize_with_cache`): one pre-token in, token ids out. The pre-token becomes symbols — one
 * per byte for byte-level pipelines, one per Unicode character otherwise — then merges apply by
 * rank (`bpe-word.ts`). A symbol not in the vocabulary becomes, in this order of preference:
 * its UTF-8 bytes' `<0xNN>` tokens (`byte_fallback`, when all of them exist), the unknown
 * token (runs of them fused into one with `fuse_unk`), or an error. With `ignore_merges`, a
 * pre-token that is itself in the vocabulary is that one token.
 */
import { InvalidArgumentError } from '../errors.js';
import { mergeWord, PAIR_BASE, type MergeTable } from './bpe-word.js';
import { BYTE_TO_CHAR, toByteLevel, utf8Bytes } from './byte-level.js';

/** Pre-tokens remembered with their ids; the cache is emptied when it reaches this size. */
const CACHE_LIMIT = 100_000;

/** How the model turns a pre-token into symbols. */
export interface BpeModelOptions {
  /** Symbols are the bytes of the pre-token (as byte-level characters), not its characters. */
  byteLevel: boolean;
  /** The unknown token, or null to refuse symbols without a token. */
  unkToken: string | null;
  fuseUnk: boolean;
  byteFallback: boolean;
  ignoreMerges: boolean;
}

function show(value: unknown): string {
  return JSON.stringify(value) ?? String(value);
}

/** The `<0xNN>` token of byte `b`, as HF's byte fallback spells it. */
export function byteFallbackToken(b: number): string {
  return `<0x${b.toString(16).toUpperCase().padStart(2, '0')}>`;
}

/**
 * Builds the merge lookup from merges given as token strings.
 *
 * @param fail - makes the error for a merge using a token missing from the vocabulary.
 */
export function buildMergeTable(
  vocab: ReadonlyMap<string, number>,
  merges: readonly (readonly [string, string])[],
  fail: (message: string) => Error,
): MergeTable {
  const ranks = new Map<number, number>();
  const results = new Int32Array(merges.length);
  merges.forEach(([a, b], rank) => {
    const left = vocab.get(a);
    const right = vocab.get(b);
    const merged = vocab.get(a + b);
    if (left === undefined || right === undefined || merged === undefined) {
      const missing = left === undefined ? a : right === undefined ? b : a + b;
      throw fail(`merge ${rank} (${show(a)} ${show(b)}) uses ${show(missing)}, which is not in the vocabulary`);
    }
    // A repeated merge takes the last rank, as in Hugging Face's merge map.
    ranks.set(left * PAIR_BASE + right, rank);
    results[rank] = merged;
  });
  return { ranks, results };
}

/** Tokenizes pre-tokens (see the module comment); caches the results. */
export class BpeModel {
  /** Token id of each byte: its byte-level character (byte-level models) or its `<0xNN>` token (byte fallback); -1 if none. */
  private readonly byteIds = new Int32Array(256).fill(-1);
  private readonly unkId: number;
  private readonly cache = new Map<string, Int32Array>();

  /** @throws the error `fail` makes if the unknown token is not in the vocabulary. */
  constructor(
    private readonly vocab: ReadonlyMap<string, number>,
    private readonly table: MergeTable,
    private readonly options: BpeModelOptions,
    fail: (message: string) => Error,
  ) {
    for (let b = 0; b < 256; b++) {
      const token = options.byteLevel ? (BYTE_TO_CHAR[b] ?? '') : byteFallbackToken(b);
      if (options.byteLevel || options.byteFallback) this.byteIds[b] = vocab.get(token) ?? -1;
    }
    this.unkId = -1;
    if (options.unkToken !== null) {
      const unk = vocab.get(options.unkToken);
      if (unk === undefined) throw fail(`the unknown token ${show(options.unkToken)} is not in the vocabulary`);
      this.unkId = unk;
    }
  }

  /**
   * The token ids of one pre-token: raw text for byte-level models (its UTF-8 bytes are the
   * symbols), model-alphabet text otherwise.
   *
   * @returns [n] int32 ids (shared with the cache: do not modify).
   * @throws InvalidArgumentError if a symbol has no token and there is no unknown token.
   */
  tokenize(piece: string): Int32Array {
    const cached = this.cache.get(piece);
    if (cached !== undefined) return cached;
    const { byteLevel, ignoreMerges } = this.options;
    const whole = ignoreMerges ? this.vocab.get(byteLevel ? toByteLevel(piece) : piece) : undefined;
    const ids =
      whole !== undefined ? Int32Array.of(whole) : mergeWord(byteLevel ? this.byteSymbols(piece) : this.charSymbols(piece), this.table);
    if (this.cache.size >= CACHE_LIMIT) this.cache.clear();
    this.cache.set(piece, ids);
    return ids;
  }

  private noToken(what: string, piece: string, detail: string): InvalidArgumentError {
    return new InvalidArgumentError(
      `BpeTokenizer.encode: ${what} of ${show(piece)} has no token (${detail}) and the tokenizer has no unknown token`,
    );
  }

  private byteSymbols(piece: string): number[] {
    const bytes = utf8Bytes(piece);
    const symbols: number[] = [];
    for (let i = 0; i < bytes.length; i++) {
      const byte = bytes[i] as number;
      const id = this.byteIds[byte] as number;
      if (id >= 0) {
        symbols.push(id);
      } else if (this.unkId >= 0) {
        const previousUnknown = i > 0 && this.byteIds[bytes[i - 1] as number] === -1;
        if (!(this.options.fuseUnk && previousUnknown)) symbols.push(this.unkId);
      } else {
        throw this.noToken(`byte 0x${byte.toString(16).padStart(2, '0')}`, piece, `${show(BYTE_TO_CHAR[byte])} is not in the vocabulary`);
      }
    }
    return symbols;
  }

  /** `merge_word` over characters: a pending unknown token is written when a known character (or the end) follows. */
  private charSymbols(piece: string): number[] {
    const symbols: number[] = [];
    let unkPending = false;
    for (const ch of piece) {
      const id = this.vocab.get(ch);
      if (id !== undefined) {
        if (unkPending) symbols.push(this.unkId);
        unkPending = false;
        symbols.push(id);
        continue;
      }
      if (this.options.byteFallback) {
        const bytes = utf8Bytes(ch);
        let all = true;
        for (const b of bytes) all &&= (this.byteIds[b] as number) >= 0;
        // As HF: byte tokens go out at once, before a still-pending unknown token.
        if (all) {
          for (const b of bytes) symbols.push(this.byteIds[b] as number);
          continue;
        }
      }
      if (this.unkId < 0)
        throw this.noToken(
          `character ${show(ch)}`,
          piece,
          this.options.byteFallback ? 'nor do all its <0xNN> byte tokens' : 'it is not in the vocabulary',
        );
      if (unkPending && !this.options.fuseUnk) symbols.push(this.unkId);
      unkPending = true;
    }
    if (unkPending) symbols.push(this.unkId);
    return symbols;
  }
}
