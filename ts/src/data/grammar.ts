/**
 * The built-in training corpus: sentences from a small probabilistic English grammar in which
 * word order carries the meaning ("the dog chased the cat" ≠ "the cat chased the dog"). It is
 * generated in code — no files, no network — and is deterministic for a given seed.
 *
 * ```
 * sentence    → clause ( conj clause )? " ."
 * clause      → np(animate) vt np(object of vt) pp?          "the dog chased the small cat near the barn"
 *             | np(person) vd np(animate) np(thing)          "a girl gave the boy a red ball"
 *             | np(animate) vi pp?                           "the old horse slept under the tree"
 * np(class)   → det adj(class)? noun(class)                  det is "a"/"an" by the next word, or "the"
 * pp          → prep np(place)
 * ```
 */
import { InvalidArgumentError } from '../errors.js';
import { Rng } from '../train/rng.js';

/** The noun classes of the grammar (what a verb accepts as its object). */
export type GrammarNounClass = 'animates' | 'people' | 'things' | 'places';

/** The grammar's word classes ({@link GRAMMAR_WORDS}). */
export interface GrammarWords {
  /** Animals and people; the subjects of every clause. */
  readonly animates: readonly string[];
  /** The people among `animates`; the subjects of ditransitive verbs. */
  readonly people: readonly string[];
  /** Objects that can be given, carried or found. */
  readonly things: readonly string[];
  /** Places; the objects of prepositions. */
  readonly places: readonly string[];
  /** Transitive verbs (past tense), each with the noun classes it accepts as object. */
  readonly transitive: Readonly<Record<string, readonly GrammarNounClass[]>>;
  /** Ditransitive verbs: subject (person) verb recipient (animate) theme (thing). */
  readonly ditransitive: readonly string[];
  /** Intransitive verbs. */
  readonly intransitive: readonly string[];
  /** Adjectives usable with any noun class. */
  readonly adjectives: readonly string[];
  /** Adjectives only for animates. */
  readonly animateAdjectives: readonly string[];
  /** Adjectives only for things and places. */
  readonly thingAdjectives: readonly string[];
  /** Prepositions, each followed by a place. */
  readonly prepositions: readonly string[];
  /** Determiners (`a` or `an` by the next word). */
  readonly determiners: readonly string[];
  /** Conjunctions joining two clauses. */
  readonly conjunctions: readonly string[];
  /** The sentence terminator, a separate word. */
  readonly punctuation: readonly string[];
}

/** The grammar's word classes. Every word is lower-case ASCII. */
export const GRAMMAR_WORDS: GrammarWords = {
  /** Animals and people; the subjects of every clause. */
  animates: ['dog', 'cat', 'bird', 'fox', 'horse', 'mouse', 'girl', 'boy', 'man', 'woman', 'teacher', 'farmer'],
  /** The people among `animates`; the subjects of ditransitive verbs. */
  people: ['girl', 'boy', 'man', 'woman', 'teacher', 'farmer'],
  /** Objects that can be given, carried or found. */
  things: ['ball', 'book', 'apple', 'box', 'hat', 'cake', 'stick'],
  /** Places; the objects of prepositions. */
  places: ['house', 'tree', 'garden', 'river', 'barn'],
  /** Transitive verbs (past tense), each with the noun classes it accepts as object. */
  transitive: {
    chased: ['animates'],
    followed: ['animates'],
    helped: ['animates'],
    called: ['animates'],
    watched: ['animates'],
    saw: ['animates', 'things', 'places'],
    liked: ['animates', 'things', 'places'],
    found: ['animates', 'things'],
    pushed: ['animates', 'things'],
    carried: ['things'],
  },
  /** Ditransitive verbs: subject (person) verb recipient (animate) theme (thing). */
  ditransitive: ['gave', 'showed', 'sent', 'threw'],
  /** Intransitive verbs. */
  intransitive: ['slept', 'ran', 'sang', 'jumped'],
  /** Adjectives usable with any noun class. */
  adjectives: ['small', 'big', 'old'],
  /** Adjectives only for animates. */
  animateAdjectives: ['happy', 'hungry', 'young'],
  /** Adjectives only for things and places. */
  thingAdjectives: ['red', 'blue', 'heavy'],
  prepositions: ['near', 'under', 'behind', 'in', 'by'],
  determiners: ['the', 'a', 'an'],
  conjunctions: ['and', 'but', 'then'],
  /** The sentence terminator, a separate word. */
  punctuation: ['.'],
};

type NounClass = GrammarNounClass;
type Pick = <T>(items: readonly T[]) => T;

/** Options of {@link grammarCorpus}. */
export interface GrammarCorpusOptions {
  /** Number of sentences (lines); an integer in [1, 10⁷]. */
  sentences: number;
  /** Seed of the {@link Rng} that drives every choice; a safe integer. */
  seed: number;
}

const VOWELS = new Set(['a', 'e', 'i', 'o', 'u']);

function nounPhrase(pick: Pick, chance: (p: number) => boolean, cls: NounClass): string {
  const noun = pick(GRAMMAR_WORDS[cls]);
  let adjective: string | undefined;
  if (chance(0.35)) {
    const classAdjectives = cls === 'animates' || cls === 'people' ? GRAMMAR_WORDS.animateAdjectives : GRAMMAR_WORDS.thingAdjectives;
    adjective = pick([...GRAMMAR_WORDS.adjectives, ...classAdjectives]);
  }
  const next = adjective ?? noun;
  const det = chance(0.6) ? 'the' : VOWELS.has(next[0] ?? '') ? 'an' : 'a';
  return adjective === undefined ? `${det} ${noun}` : `${det} ${adjective} ${noun}`;
}

function clause(pick: Pick, chance: (p: number) => boolean): string {
  const pp = (): string => (chance(0.3) ? ` ${pick(GRAMMAR_WORDS.prepositions)} ${nounPhrase(pick, chance, 'places')}` : '');
  const kind = pick(['transitive', 'transitive', 'transitive', 'transitive', 'ditransitive', 'intransitive'] as const);
  if (kind === 'ditransitive') {
    const subject = nounPhrase(pick, chance, 'people');
    return `${subject} ${pick(GRAMMAR_WORDS.ditransitive)} ${nounPhrase(pick, chance, 'animates')} ${nounPhrase(pick, chance, 'things')}`;
  }
  const subject = nounPhrase(pick, chance, 'animates');
  if (kind === 'intransitive') return `${subject} ${pick(GRAMMAR_WORDS.intransitive)}${pp()}`;
  const verbs = Object.keys(GRAMMAR_WORDS.transitive);
  const verb = pick(verbs);
  const objectClass = pick<NounClass>(GRAMMAR_WORDS.transitive[verb] as readonly NounClass[]);
  return `${subject} ${verb} ${nounPhrase(pick, chance, objectClass)}${pp()}`;
}

/**
 * Generates the corpus: `sentences` lines, each a lower-case sentence whose words (including
 * the final ".") are separated by single spaces, every line ending in "\n".
 *
 * @param options - sentence count and seed; the same options always give the same text.
 * @throws InvalidArgumentError if `sentences` is not an integer in [1, 10⁷] or `seed` is not a safe integer.
 */
export function grammarCorpus(options: GrammarCorpusOptions): string {
  const { sentences, seed } = options ?? {};
  if (typeof sentences !== 'number' || !Number.isInteger(sentences) || sentences < 1 || sentences > 1e7) {
    throw new InvalidArgumentError(`grammarCorpus: sentences must be an integer in [1, 10000000], got ${String(sentences)}`);
  }
  if (typeof seed !== 'number' || !Number.isSafeInteger(seed)) {
    throw new InvalidArgumentError(`grammarCorpus: seed must be a safe integer, got ${String(seed)}`);
  }
  const rng = new Rng(seed);
  const pick: Pick = (items) => {
    const item = items[rng.nextInt(items.length)];
    if (item === undefined) throw new InvalidArgumentError('grammarCorpus: internal error, empty word list');
    return item;
  };
  const chance = (p: number): boolean => rng.nextFloat() < p;
  const lines: string[] = [];
  for (let i = 0; i < sentences; i++) {
    let sentence = clause(pick, chance);
    if (chance(0.2)) sentence += ` ${pick(GRAMMAR_WORDS.conjunctions)} ${clause(pick, chance)}`;
    lines.push(`${sentence} .\n`);
  }
  return lines.join('');
}

/** Every word the grammar can produce (including "."), sorted and unique. */
export function grammarVocabulary(): string[] {
  const words = new Set<string>();
  for (const [key, value] of Object.entries(GRAMMAR_WORDS)) {
    const list: readonly string[] = key === 'transitive' ? Object.keys(value) : (value as readonly string[]);
    for (const word of list) words.add(word);
  }
  return [...words].sort();
}
