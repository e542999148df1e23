/**
 * BERT pretraining data (Devlin et al. §3.1): sequences `[CLS] A [SEP]` — or, with
 * next-sentence prediction, `[CLS] A [SEP] B [SEP]` where B follows A half of the time and is
 * a random sentence otherwise (label 0 = is next, 1 = random, as Hugging Face); or, with
 * sentence-order prediction (ALBERT, Lan et al. 2020 §4.1), two consecutive sentences of a
 * document in their order (label 0) or swapped (label 1) — padded to
 * `T`, with segment ids and an attention mask. Masked-LM: each real token is chosen with
 * probability 15%; a chosen token becomes [MASK] 80% of the time, a random token 10%, and
 * stays 10%; the loss is taken on the chosen tokens only (targets -100 elsewhere).
 */
import { InvalidArgumentError } from '../errors.js';
import type { BatchSource, ModelBatch } from './batches.js';
import { drawLengthGroup, sortByLength } from './length-groups.js';
import { Rng } from './rng.js';

/** The special token ids and vocabulary a {@link MaskedLMDataset} needs. */
export interface MaskedLMSpecials {
  /** Id of `[CLS]`, put first. */
  clsId: number;
  /** Id of `[SEP]`, put after each segment. */
  sepId: number;
  /** Id of `[PAD]`, which fills short sequences. */
  padId: number;
  /** Id of `[MASK]`, which replaces 80% of the chosen tokens. */
  maskId: number;
  /** Size of the vocabulary (random replacements are drawn below it). */
  vocabSize: number;
  /** Ids never chosen for masking nor drawn as replacements (default: cls, sep, pad, mask). */
  specialIds?: readonly number[];
}

/** Options of {@link MaskedLMDataset}. */
export interface MaskedLMOptions {
  /** Probability of choosing a token for the masked-LM loss (default 0.15). */
  maskProbability?: number;
  /** Next-sentence prediction pairs (default false; the model then needs `nClasses: 2`). */
  nsp?: boolean;
  /**
   * Sentence-order prediction pairs (ALBERT): consecutive sentences in order or swapped, so that
   * both segments always share a topic (default false; not with `nsp`; needs `nClasses: 2`).
   */
  sop?: boolean;
  /** Seed of the masking used by `batches()` (evaluation), default 0. */
  evalSeed?: number;
  /**
   * `'longest'` (default): pad each batch to its longest sequence (the batch's `T` can be
   * below the trainer's); `'max'`: always pad to the trainer's `T`.
   */
  padding?: 'longest' | 'max';
  /**
   * Draw each batch from sentences of similar length (sorted by length, cut into groups of
   * `groupSize`, default 8 × the batch size), so short sentences do not pay for padding;
   * every sentence stays equally likely. Masked-LM only (not with `nsp` or `sop`). Default false.
   */
  groupByLength?: boolean;
  /** Sentences per length group (default 8 × the batch size). */
  groupSize?: number;
}

/** Masked-LM (and optional NSP) batches from tokenized documents. */
export class MaskedLMDataset implements BatchSource {
  private readonly documents: number[][][];
  private readonly sentences: number[][];
  private readonly specials: Required<MaskedLMSpecials>;
  private readonly special: Set<number>;
  private readonly maskProbability: number;
  /** Which sentence pairs are built (none: masked-LM on single sentences). */
  private readonly pairTask: 'none' | 'nsp' | 'sop';
  private readonly evalSeed: number;
  private readonly padding: 'longest' | 'max';
  private readonly groupByLength: boolean;
  private readonly groupSize: number | undefined;
  /** Sentence indices sorted by length, built on the first grouped draw. */
  private byLength: number[] | undefined;
  /** `[document, sentence]` of every sentence that has a next one. */
  private readonly pairs: [number, number][];

  /**
   * @param documents - token ids (no special tokens) of each sentence, grouped by document
   *   (`[[s0, s1, …], …]`: consecutive sentences of a document are "next"); a flat list of
   *   sentences (`[s0, s1, …]`) is one document per sentence, which allows no NSP.
   */
  constructor(
    documents: readonly (readonly ArrayLike<number>[])[] | readonly ArrayLike<number>[],
    specials: MaskedLMSpecials,
    options: MaskedLMOptions = {},
  ) {
    const {
      maskProbability = 0.15,
      nsp = false,
      sop = false,
      evalSeed = 0,
      padding = 'longest',
      groupByLength = false,
      groupSize,
    } = options;
    for (const [name, value] of [
      ['groupByLength', groupByLength],
      ['nsp', nsp],
      ['sop', sop],
    ] as const) {
      if (typeof value !== 'boolean') throw new InvalidArgumentError(`MaskedLMDataset: ${name} must be a boolean, got ${String(value)}`);
    }
    if (nsp && sop) throw new InvalidArgumentError('MaskedLMDataset: choose one of nsp and sop (both are sentence-pair objectives)');
    const pairTask = nsp ? 'nsp' : sop ? 'sop' : 'none';
    if (groupByLength && pairTask !== 'none')
      throw new InvalidArgumentError(`MaskedLMDataset: groupByLength works on single sentences; it cannot be combined with ${pairTask}`);
    if (groupSize !== undefined && (!Number.isInteger(groupSize) || groupSize < 1)) {
      throw new InvalidArgumentError(`MaskedLMDataset: groupSize must be a positive integer, got ${String(groupSize)}`);
    }
    this.groupByLength = groupByLength;
    this.groupSize = groupSize;
    if (padding !== 'longest' && padding !== 'max')
      throw new InvalidArgumentError(`MaskedLMDataset: padding must be 'longest' or 'max', got ${String(padding)}`);
    this.padding = padding;
    if (!Array.isArray(documents) || documents.length === 0)
      throw new InvalidArgumentError('MaskedLMDataset: documents must be a non-empty array');
    const nested = documents.every((d) => Array.isArray(d) && (d.length === 0 || typeof d[0] !== 'number'));
    const docs = nested
      ? (documents as readonly (readonly ArrayLike<number>[])[])
      : (documents as readonly ArrayLike<number>[]).map((s) => [s]);
    const ids = ['clsId', 'sepId', 'padId', 'maskId'] as const;
    const { vocabSize } = specials;
    if (!Number.isInteger(vocabSize) || vocabSize < 1)
      throw new InvalidArgumentError(`MaskedLMDataset: vocabSize must be an integer >= 1, got ${vocabSize}`);
    for (const key of ids) {
      const id = specials[key];
      if (!Number.isInteger(id) || id < 0 || id >= vocabSize)
        throw new InvalidArgumentError(`MaskedLMDataset: ${key} must be a token id in [0, ${vocabSize}), got ${id}`);
    }
    if (!(maskProbability > 0 && maskProbability < 1))
      throw new InvalidArgumentError(`MaskedLMDataset: maskProbability must be in (0, 1), got ${maskProbability}`);
    this.specials = { ...specials, specialIds: specials.specialIds ?? ids.map((k) => specials[k]) };
    this.special = new Set(this.specials.specialIds);
    if (this.special.size >= vocabSize) throw new InvalidArgumentError('MaskedLMDataset: the vocabulary has no non-special token');
    this.documents = docs
      .map((d, di) =>
        d
          .map((s, si) => {
            const sentence = Array.from(s);
            if (sentence.some((x) => !Number.isInteger(x) || x < 0 || x >= vocabSize)) {
              throw new InvalidArgumentError(
                `MaskedLMDataset: document ${di} sentence ${si} holds a value that is not a token id in [0, ${vocabSize})`,
              );
            }
            return sentence;
          })
          .filter((s) => s.length > 0),
      )
      .filter((d) => d.length > 0);
    this.sentences = this.documents.flat();
    if (this.sentences.length === 0) throw new InvalidArgumentError('MaskedLMDataset: every sentence is empty');
    this.pairs = this.documents.flatMap((d, di) => d.slice(0, -1).map((_, si) => [di, si] as [number, number]));
    if (pairTask !== 'none' && this.pairs.length === 0)
      throw new InvalidArgumentError(`MaskedLMDataset: ${pairTask} needs documents of at least two sentences`);
    this.maskProbability = maskProbability;
    this.pairTask = pairTask;
    this.evalSeed = evalSeed;
  }

  /** Number of sentences. */
  get size(): number {
    return this.sentences.length;
  }

  /** `batchSize` random sequences of `seqLen` tokens. */
  sample(rng: Rng, batchSize: number, seqLen: number): ModelBatch {
    if (this.groupByLength) {
      this.byLength ??= sortByLength(this.sentences.map((s) => s.length));
      const order = this.byLength;
      const picks = drawLengthGroup(rng, order, batchSize, this.groupSize ?? 8 * batchSize).map((i) => ({
        a: this.sentences[i] as number[],
        b: undefined,
        label: -100,
      }));
      return this.build(picks, rng, seqLen);
    }
    const picks = Array.from({ length: batchSize }, () => this.pick(rng));
    return this.build(picks, rng, seqLen);
  }

  /** Every sentence (or pair) once, masked with a fixed seed: deterministic evaluation. */
  *batches(batchSize: number, seqLen: number): Iterable<ModelBatch> {
    const rng = new Rng(this.evalSeed);
    const all =
      this.pairTask !== 'none' ? this.pairs.map(() => this.pick(rng)) : this.sentences.map((s) => ({ a: s, b: undefined, label: -100 }));
    for (let start = 0; start < all.length; start += batchSize) yield this.build(all.slice(start, start + batchSize), rng, seqLen);
  }

  private pick(rng: Rng): { a: number[]; b: number[] | undefined; label: number } {
    if (this.pairTask === 'none') return { a: this.sentences[rng.nextInt(this.sentences.length)] as number[], b: undefined, label: -100 };
    const [di, si] = this.pairs[rng.nextInt(this.pairs.length)] as [number, number];
    const doc = this.documents[di] as number[][];
    const a = doc[si] as number[];
    if (this.pairTask === 'sop') {
      const next = doc[si + 1] as number[];
      return rng.nextFloat() < 0.5 ? { a, b: next, label: 0 } : { a: next, b: a, label: 1 };
    }
    if (rng.nextFloat() < 0.5) return { a, b: doc[si + 1] as number[], label: 0 };
    // A random sentence that is not A's successor (another document when there is one).
    let b = this.sentences[rng.nextInt(this.sentences.length)] as number[];
    for (let tries = 0; tries < 10 && b === doc[si + 1]; tries++) b = this.sentences[rng.nextInt(this.sentences.length)] as number[];
    return { a, b, label: 1 };
  }

  private build(picks: { a: number[]; b: number[] | undefined; label: number }[], rng: Rng, maxLen: number): ModelBatch {
    const { clsId, sepId, padId, maskId, vocabSize } = this.specials;
    const need = this.pairTask !== 'none' ? 5 : 3;
    if (maxLen < need) throw new InvalidArgumentError(`MaskedLMDataset: seqLen must be >= ${need}, got ${maxLen}`);
    const specials = (b: number[] | undefined) => (b ? 3 : 2);
    const seqLen =
      this.padding === 'max' ? maxLen : Math.min(maxLen, Math.max(...picks.map(({ a, b }) => a.length + (b?.length ?? 0) + specials(b))));
    const n = picks.length * seqLen;
    const batch: ModelBatch = {
      ids: new Uint32Array(n).fill(padId),
      targets: new Int32Array(n).fill(-100),
      typeIds: new Uint32Array(n),
      attentionMask: new Uint8Array(n),
      batchSize: picks.length,
    };
    if (seqLen !== maxLen) batch.seqLen = seqLen;
    if (this.pairTask !== 'none') batch.labels = Int32Array.from(picks, (p) => p.label);
    picks.forEach(({ a, b }, i) => {
      let [lenA, lenB] = [a.length, b?.length ?? 0];
      // Longest-first truncation to fit the special tokens.
      const room = seqLen - specials(b);
      while (lenA + lenB > room) {
        if (lenA >= lenB) lenA--;
        else lenB--;
      }
      const tokens = [clsId, ...a.slice(0, lenA), sepId, ...(b ? [...b.slice(0, lenB), sepId] : [])];
      const offset = i * seqLen;
      tokens.forEach((id, t) => {
        let input = id;
        if (!this.special.has(id) && rng.nextFloat() < this.maskProbability) {
          batch.targets![offset + t] = id;
          const r = rng.nextFloat();
          if (r < 0.8) input = maskId;
          else if (r < 0.9) input = this.randomToken(rng, vocabSize);
        }
        batch.ids[offset + t] = input;
        batch.attentionMask![offset + t] = 1;
        batch.typeIds![offset + t] = t > lenA + 1 ? 1 : 0;
      });
    });
    return batch;
  }

  private randomToken(rng: Rng, vocabSize: number): number {
    for (;;) {
      const id = rng.nextInt(vocabSize);
      if (!this.special.has(id)) return id;
    }
  }
}
