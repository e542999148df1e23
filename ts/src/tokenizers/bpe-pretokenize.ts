/**
 * Normalization and pre-tokenization of the text between added tokens, as Hugging Face
 * `tokenizers` runs them (`normalizers/{prepend,replace}.rs`, `pre_tokenizers/metaspace.rs`,
 * `pre_tokenizers/split.rs`, `pre_tokenizers/byte_level.rs`): each piece handed to `visit` is a
 * pre-token — raw text for byte-level pipelines (the model maps its UTF-8 bytes to byte-level
 * characters, which is all ByteLevel(use_regex false) does), Unicode text in the model's
 * alphabet (spaces already replaced by "▁") for SentencePiece-style ones. Empty pieces are
 * never visited (HF drops empty splits).
 */
import type { BpeNormalizerStep, BpePipeline } from './bpe-pipeline.js';
import { forEachIsolated, knownSplitPattern } from './bpe-split-regex.js';
import { forEachPreToken } from './byte-level.js';

/** Runs the normalizer steps on one piece of text (HF skips empty pieces, so Prepend never sees ""). */
export function normalize(text: string, steps: readonly BpeNormalizerStep[]): string {
  let s = text;
  for (const step of steps) {
    if (step.type === 'Prepend') {
      if (s !== '') s = step.prepend + s;
    } else {
      s = s.split(step.pattern).join(step.content);
    }
  }
  return s;
}

/**
 * Cuts `text` before every `delimiter` (HF `MergedWithNext`): "a▁▁b" → "a", "▁", "▁b".
 * `delimiter` is one character (possibly two UTF-16 units).
 */
function forEachMergedWithNext(text: string, delimiter: string, visit: (piece: string) => void): void {
  let start = 0;
  for (let i = text.indexOf(delimiter); i !== -1; i = text.indexOf(delimiter, i + delimiter.length)) {
    if (i > start) visit(text.slice(start, i));
    start = i;
  }
  if (start < text.length) visit(text.slice(start));
}

/** A compiled pipeline front end: `run(segment, atStart, visit)`. */
export interface PreTokenizerRun {
  /**
   * Calls `visit` with each pre-token of `segment`, a stretch of the input between added
   * tokens; `atStart` says whether it begins at offset 0 of the input (Metaspace "first").
   */
  run(segment: string, atStart: boolean, visit: (piece: string) => void): void;
}

/** Compiles the normalizer and pre-tokenizer of `pipeline` (its Split regex must be a known one). */
export function compilePreTokenizer(pipeline: BpePipeline): PreTokenizerRun {
  const steps = pipeline.normalizer;
  const pre = pipeline.preTokenizer;
  switch (pre.type) {
    case 'ByteLevel':
      return { run: (segment, _, visit) => forEachPreToken(segment, visit) };
    case 'SplitByteLevel': {
      const known = knownSplitPattern(pre.pattern);
      if (known === undefined) throw new Error(`unreachable: unknown Split pattern ${pre.pattern}`);
      return { run: (segment, _, visit) => forEachIsolated(segment, known.regex, visit) };
    }
    case 'None':
      return {
        run: (segment, _, visit) => {
          const s = normalize(segment, steps);
          if (s !== '') visit(s);
        },
      };
    case 'Metaspace': {
      const { replacement, prependScheme, split } = pre;
      return {
        run: (segment, atStart, visit) => {
          let s = normalize(segment, steps);
          if (s === '') return;
          s = s.split(' ').join(replacement);
          const prepend = prependScheme === 'always' || (prependScheme === 'first' && atStart);
          if (prepend && !s.startsWith(replacement)) s = replacement + s;
          if (split) forEachMergedWithNext(s, replacement, visit);
          else visit(s);
        },
      };
    }
  }
}
