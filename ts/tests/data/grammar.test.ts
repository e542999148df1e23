import { describe, expect, it } from 'vitest';
import { InvalidArgumentError } from '../../src/errors.js';
import { GRAMMAR_WORDS, grammarCorpus, grammarVocabulary } from '../../src/data/grammar.js';

const W = GRAMMAR_WORDS;
const alt = (words: readonly string[]): string => `(?:${words.join('|')})`;
const np = (nouns: readonly string[], adjectives: readonly string[]): string =>
  `${alt(W.determiners)} (?:${alt(adjectives)} )?${alt(nouns)}`;
const animate = np(W.animates, [...W.adjectives, ...W.animateAdjectives]);
const person = np(W.people, [...W.adjectives, ...W.animateAdjectives]);
const thing = np(W.things, [...W.adjectives, ...W.thingAdjectives]);
const place = np(W.places, [...W.adjectives, ...W.thingAdjectives]);
const pp = `(?: ${alt(W.prepositions)} ${place})?`;
const transitive = Object.entries(W.transitive).map(([verb, classes]) => {
  const objects = classes.map((c) => (c === 'animates' ? animate : c === 'things' ? thing : place));
  return `${animate} ${verb} ${alt(objects)}${pp}`;
});
const clause = alt([...transitive, `${person} ${alt(W.ditransitive)} ${animate} ${thing}`, `${animate} ${alt(W.intransitive)}${pp}`]);
const SENTENCE = new RegExp(`^${clause}(?: ${alt(W.conjunctions)} ${clause})? \\.$`);
const SIMPLE_TRANSITIVE = new RegExp(`^${alt(transitive)} \\.$`);

describe('grammarCorpus', () => {
  it('is deterministic per seed and differs across seeds', () => {
    const a = grammarCorpus({ sentences: 200, seed: 1 });
    expect(grammarCorpus({ sentences: 200, seed: 1 })).toBe(a);
    expect(grammarCorpus({ sentences: 200, seed: 2 })).not.toBe(a);
  });

  it('writes one lower-case sentence per line, every one matching the grammar', () => {
    const n = 2000;
    const text = grammarCorpus({ sentences: n, seed: 7 });
    expect(text.endsWith(' .\n')).toBe(true);
    const lines = text.slice(0, -1).split('\n');
    expect(lines.length).toBe(n);
    expect(text).toBe(text.toLowerCase());
    const bad = lines.filter((line) => !SENTENCE.test(line));
    expect(bad).toEqual([]);
    // The plain "the dog chased the cat ." form is common, and variety exists.
    expect(lines.filter((line) => SIMPLE_TRANSITIVE.test(line)).length).toBeGreaterThan(n / 4);
    expect(new Set(lines).size).toBeGreaterThan(n * 0.8);
    expect(lines.some((line) => / (?:and|but|then) /.test(line))).toBe(true);
    expect(lines.some((line) => / an /.test(line))).toBe(true);
    expect(lines.every((line) => !/ a [aeiou]/.test(` ${line}`) && !/ an [^aeiou]/.test(` ${line}`))).toBe(true);
  });

  it('only uses words from grammarVocabulary, and uses most of them', () => {
    const vocab = grammarVocabulary();
    expect(vocab).toEqual([...new Set(vocab)].sort());
    expect(vocab).toContain('.');
    const nouns = new Set([...W.animates, ...W.things, ...W.places]);
    expect(nouns.size).toBeGreaterThanOrEqual(15);
    expect(nouns.size).toBeLessThanOrEqual(25);
    expect(Object.keys(W.transitive).length).toBe(10);
    const used = new Set(grammarCorpus({ sentences: 3000, seed: 3 }).split(/\s+/).filter(Boolean));
    for (const word of used) expect(vocab).toContain(word);
    expect(used.size).toBe(vocab.length);
  });

  it('rejects bad options', () => {
    expect(() => grammarCorpus({ sentences: 0, seed: 1 })).toThrow(InvalidArgumentError);
    expect(() => grammarCorpus({ sentences: 2.5, seed: 1 })).toThrow(/sentences/);
    expect(() => grammarCorpus({ sentences: 5, seed: Number.NaN })).toThrow(/seed/);
  });
});
