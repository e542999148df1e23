/**
 * After WordPiece: truncation (`utils/truncation.rs`), the post-processor template that adds
 * [CLS] / [SEP] and segment ids (`processors/template.rs`), padding, and the WordPiece decoder
 * (`decoders/wordpiece.rs`), as the Hugging Face `tokenizers` library does them.
 */
import { InvalidArgumentError } from '../errors.js';
import type { PostProcessorSpec, TemplatePiece } from './wordpiece-huggingface.js';

/** How a pair (or a single text) is cut to `maxLength`, as in Hugging Face. */
export type WordPieceTruncation = 'longest_first' | 'only_first' | 'only_second' | false;

/** One tokenized sequence: ids and their token strings. */
export interface Piece {
  ids: number[];
  tokens: string[];
}

function cut(p: Piece, n: number): void {
  p.ids.length = Math.min(p.ids.length, n);
  p.tokens.length = Math.min(p.tokens.length, n);
}

/**
 * Truncates `a` (and `b`) in place so that together they have at most `maxLength` tokens
 * (`truncate_encodings`): `longest_first` keeps the shorter one whole when it fits in half,
 * otherwise gives each half (the longer one the odd token); `only_*` cuts one side and
 * throws if that side is too short.
 */
export function truncatePieces(a: Piece, b: Piece | null, maxLength: number, strategy: Exclude<WordPieceTruncation, false>): void {
  if (maxLength === 0) {
    cut(a, 0);
    if (b) cut(b, 0);
    return;
  }
  const total = a.ids.length + (b ? b.ids.length : 0);
  if (total <= maxLength) return;
  const toRemove = total - maxLength;
  if (strategy === 'longest_first') {
    if (!b) {
      cut(a, maxLength);
      return;
    }
    let n1 = a.ids.length;
    let n2 = b.ids.length;
    const swap = n1 > n2;
    if (swap) [n1, n2] = [n2, n1];
    n2 = n1 > maxLength ? n1 : Math.max(n1, maxLength - n1);
    if (n1 + n2 > maxLength) {
      n1 = Math.floor(maxLength / 2);
      n2 = n1 + (maxLength % 2);
    }
    if (swap) [n1, n2] = [n2, n1];
    cut(a, n1);
    cut(b, n2);
    return;
  }
  const target = strategy === 'only_first' ? a : b;
  if (!target)
    throw new InvalidArgumentError(
      `truncation 'only_second' needs a second sequence (the text has ${total} tokens, more than ${maxLength})`,
    );
  if (target.ids.length <= toRemove) {
    throw new InvalidArgumentError(
      `truncation '${strategy}': the ${strategy === 'only_first' ? 'first' : 'second'} sequence has ${target.ids.length} tokens, ` +
        `too few to remove the ${toRemove} needed to fit maxLength; use 'longest_first' or a larger maxLength`,
    );
  }
  cut(target, target.ids.length - toRemove);
}

/** The number of special tokens the template adds (`PostProcessor::added_tokens`). */
export function addedTokenCount(pp: PostProcessorSpec | null, isPair: boolean): number {
  if (!pp) return 0;
  let n = 0;
  for (const piece of isPair ? pp.pair : pp.single) {
    if (piece.kind === 'special') n += pp.specialTokens.get(piece.token)?.ids.length ?? 0;
  }
  return n;
}

/** Joins the sequences by the template (or A then B, with segment ids 0 and 1, without one). */
export function applyTemplate(
  pp: PostProcessorSpec | null,
  a: Piece,
  b: Piece | null,
  addSpecialTokens: boolean,
): { ids: number[]; typeIds: number[] } {
  const ids: number[] = [];
  const typeIds: number[] = [];
  if (!pp) {
    ids.push(...a.ids);
    typeIds.push(...a.ids.map(() => 0));
    if (b) {
      ids.push(...b.ids);
      typeIds.push(...b.ids.map(() => 1));
    }
    return { ids, typeIds };
  }
  const template: TemplatePiece[] = b ? pp.pair : pp.single;
  for (const piece of template) {
    if (piece.kind === 'sequence') {
      const seq = piece.sequence === 'A' ? a : b;
      for (const id of seq?.ids ?? []) {
        ids.push(id);
        typeIds.push(piece.typeId);
      }
    } else if (addSpecialTokens) {
      for (const id of pp.specialTokens.get(piece.token)?.ids ?? []) {
        ids.push(id);
        typeIds.push(piece.typeId);
      }
    }
  }
  return { ids, typeIds };
}

const DECODER_CLEANUP: readonly [string, string][] = [
  [' .', '.'],
  [' ?', '?'],
  [' !', '!'],
  [' ,', ','],
  [" ' ", "'"],
  [" n't", "n't"],
  [" 'm", "'m"],
  [' do not', " don't"],
  [" 's", "'s"],
  [" 've", "'ve"],
  [" 're", "'re"],
];

/** transformers' `clean_up_tokenization` (the same list without "do not"). */
const TRANSFORMERS_CLEANUP = DECODER_CLEANUP.filter(([from]) => from !== ' do not');

function replaceAll(s: string, table: readonly [string, string][]): string {
  let out = s;
  for (const [from, to] of table) out = out.split(from).join(to);
  return out;
}

/**
 * The WordPiece decoder: a token starting with `prefix` is glued to the previous one (prefix
 * dropped), any other token after the first gets a leading space; with `cleanup`, each token
 * is then cleaned (" ." → ".", " n't" → "n't", …) as `decoders/wordpiece.rs` does.
 */
export function decodeWordPiece(tokens: readonly string[], decoder: { prefix: string; cleanup: boolean } | null): string {
  if (!decoder) return tokens.join(' ');
  let out = '';
  tokens.forEach((token, i) => {
    let t = token;
    if (i !== 0) t = t.startsWith(decoder.prefix) ? t.slice(decoder.prefix.length) : ` ${t}`;
    out += decoder.cleanup ? replaceAll(t, DECODER_CLEANUP) : t;
  });
  return out;
}

/** transformers' `clean_up_tokenization_spaces` pass over a decoded string. */
export function cleanUpTokenizationSpaces(text: string): string {
  return replaceAll(text, TRANSFORMERS_CLEANUP);
}
