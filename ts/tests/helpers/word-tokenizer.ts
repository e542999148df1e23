// A word-level tokenizer with BERT's special tokens: enough to exercise BERT in the tests.
import type { BertTokenizerLike } from '../../../dist/index.node.js';

/** Splits on whitespace; unknown words map to [UNK]; pairs get segment ids 0 and 1. */
export class WordTokenizer implements BertTokenizerLike {
  readonly vocab: string[];
  private readonly ids: Map<string, number>;
  readonly padId = 0;
  readonly unkId = 1;
  readonly clsId = 2;
  readonly sepId = 3;
  readonly maskId = 4;

  constructor(words: readonly string[]) {
    this.vocab = ['[PAD]', '[UNK]', '[CLS]', '[SEP]', '[MASK]', ...words];
    this.ids = new Map(this.vocab.map((w, i) => [w, i]));
  }

  get vocabSize(): number {
    return this.vocab.length;
  }

  words(text: string): number[] {
    return text
      .split(/\s+/)
      .filter(Boolean)
      .map((w) => this.ids.get(w) ?? this.unkId);
  }

  encode(
    text: string,
    pair?: string,
    options: { maxLength?: number } = {},
  ): { inputIds: number[]; tokenTypeIds: number[]; attentionMask: number[] } {
    let a = this.words(text);
    let b = pair === undefined ? undefined : this.words(pair);
    const room = (options.maxLength ?? Infinity) - (b ? 3 : 2);
    while (a.length + (b?.length ?? 0) > room) {
      if (b && b.length > a.length) b = b.slice(0, -1);
      else a = a.slice(0, -1);
    }
    const inputIds = [this.clsId, ...a, this.sepId, ...(b ? [...b, this.sepId] : [])];
    const tokenTypeIds = inputIds.map((_, i) => (i > a.length + 1 ? 1 : 0));
    return { inputIds, tokenTypeIds, attentionMask: inputIds.map(() => 1) };
  }

  idToToken(id: number): string | undefined {
    return this.vocab[id];
  }
}
