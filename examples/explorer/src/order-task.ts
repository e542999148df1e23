/**
 * The order task of the lab's `order` experiment (ts/src/lab/experiments/order.ts), for the
 * browser: "NP(x) verb NP(y)" sentences in twins with the noun phrases swapped and the other
 * answer, so that the bag of words says nothing about the answer. The sequence is
 * `[CLS] words [SEP] [Q]`; the model answers at `[Q]` with `[AGENT_FIRST]` or `[AGENT_SECOND]`.
 */
import { GRAMMAR_WORDS, grammarVocabulary, type ModelBatch, Rng } from 'wasmformer';

const SPECIALS = ['[PAD]', '[CLS]', '[SEP]', '[Q]', '[AGENT_FIRST]', '[AGENT_SECOND]'] as const;
/** The task's vocabulary: the specials, then the grammar's words. */
export const WORDS: readonly string[] = [...SPECIALS, ...grammarVocabulary()];
const ID = new Map(WORDS.map((w, i) => [w, i]));
/** T of every sequence. */
export const BLOCK = 16;

/** The id of a word of {@link WORDS}. */
export function wordId(word: string): number {
  const found = ID.get(word);
  if (found === undefined) throw new Error(`'${word}' is not in the vocabulary`);
  return found;
}

/** One example: the words, and 1 when the agent is the one of the two animals listed first in the grammar. */
export interface Example {
  words: string[];
  label: 0 | 1;
}

function nounPhrase(rng: Rng, noun: string): string[] {
  const adjectives = [...GRAMMAR_WORDS.adjectives, ...GRAMMAR_WORDS.animateAdjectives];
  const adjective = rng.nextFloat() < 0.35 ? adjectives[rng.nextInt(adjectives.length)] : undefined;
  const first = adjective ?? noun;
  const det = rng.nextFloat() < 0.6 ? 'the' : 'aeiou'.includes(first[0] ?? '') ? 'an' : 'a';
  return adjective ? [det, adjective, noun] : [det, noun];
}

/** `count` examples in twins (x verb y, y verb x). */
export function makeTask(count: number, seed: number): Example[] {
  const rng = new Rng(seed);
  const animates = GRAMMAR_WORDS.animates;
  const verbs = Object.entries(GRAMMAR_WORDS.transitive)
    .filter(([, classes]) => classes.includes('animates'))
    .map(([verb]) => verb);
  const out: Example[] = [];
  while (out.length < count) {
    const i = rng.nextInt(animates.length);
    let j = rng.nextInt(animates.length - 1);
    if (j >= i) j += 1;
    const [px, py] = [nounPhrase(rng, animates[i]!), nounPhrase(rng, animates[j]!)];
    const verb = verbs[rng.nextInt(verbs.length)]!;
    const xFirst = i < j ? 1 : 0;
    out.push({ words: [...px, verb, ...py], label: xFirst });
    out.push({ words: [...py, verb, ...px], label: xFirst === 1 ? 0 : 1 });
  }
  return out;
}

/** `ids: [B, T]`, the target (the answer) at `[Q]` only; `answerAt` the flat index of each `[Q]`. */
export function toBatch(examples: readonly Example[]): { batch: ModelBatch; answerAt: number[] } {
  const b = examples.length;
  const batch: ModelBatch = {
    ids: new Uint32Array(b * BLOCK).fill(wordId('[PAD]')),
    targets: new Int32Array(b * BLOCK).fill(-100),
    attentionMask: new Uint8Array(b * BLOCK),
    batchSize: b,
  };
  const answerAt: number[] = [];
  examples.forEach((e, r) => {
    const seq = ['[CLS]', ...e.words, '[SEP]', '[Q]'].map(wordId);
    batch.ids.set(seq, r * BLOCK);
    batch.attentionMask!.fill(1, r * BLOCK, r * BLOCK + seq.length);
    const at = r * BLOCK + seq.length - 1;
    batch.targets![at] = wordId(e.label === 1 ? '[AGENT_FIRST]' : '[AGENT_SECOND]');
    answerAt.push(at);
  });
  return { batch, answerAt };
}
