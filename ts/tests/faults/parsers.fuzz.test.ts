/**
 * Every parser of untrusted input, fed random bytes and structure-aware mutations of valid
 * files: safetensors (header and offsets), tokenizer.json (BPE and WordPiece), vocab.txt,
 * vocab.json + merges.txt, Hugging Face config.json and the package's own tokenizer JSON.
 * The property (./fuzz.ts): success or a typed error; never an untyped error, a hang, or an
 * allocation the input's size does not justify. The file loaders: ./loaders.fuzz.test.ts.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { CheckpointError } from '../../src/errors.js';
import { bertHeadsOf, configFromHuggingFace, huggingFaceArch } from '../../src/io/huggingface.js';
import { readSafetensors, writeSafetensors } from '../../src/io/safetensors.js';
import { resolveConfig } from '../../src/models/config.js';
import { BpeTokenizer } from '../../src/tokenizers/bpe.js';
import { CharTokenizer } from '../../src/tokenizers/char.js';
import { WordPieceTokenizer } from '../../src/tokenizers/wordpiece.js';
import { byteEdit, expectTypedOutcome, FUZZ_RUNS, fuzzParams, jsonEdit, lineEdit, mutateBytes, mutateJson, mutateLines } from './fuzz.js';

const FIXTURES = join(import.meta.dirname, '../fixtures');
const fixture = (path: string): Buffer => readFileSync(join(FIXTURES, path));
const fixtureJson = (path: string): unknown => JSON.parse(fixture(path).toString('utf8'));
const utf8 = new TextEncoder();

/** A JSON parse error is the caller's (the loaders wrap it); the parsers under test start at the value. */
function runJson(text: string, parse: (value: unknown) => unknown): string {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return 'invalid JSON';
  }
  return expectTypedOutcome(() => parse(value), utf8.encode(text).length);
}

/** Random JSON text and structure-aware edits of `valid`, run through `parse`; returns the outcomes seen. */
function fuzzJson(valid: unknown, parse: (value: unknown) => unknown): Map<string, number> {
  const outcomes = new Map<string, number>();
  const seen = (o: string) => outcomes.set(o, (outcomes.get(o) ?? 0) + 1);
  fc.assert(
    fc.property(fc.array(jsonEdit, { minLength: 1, maxLength: 4 }), (edits) => {
      seen(runJson(JSON.stringify(mutateJson(valid, edits)), parse));
    }),
    fuzzParams(),
  );
  fc.assert(
    fc.property(fc.jsonValue({ maxDepth: 4 }), (value) => {
      seen(runJson(JSON.stringify(value), parse));
    }),
    fuzzParams(Math.ceil(FUZZ_RUNS / 4)),
  );
  return outcomes;
}

describe('the fuzz harness', () => {
  it('flags untyped errors and oversized allocations, and passes typed errors', () => {
    expect(() => expectTypedOutcome(() => JSON.parse('{'), 1)).toThrow(/untyped SyntaxError/);
    expect(() => expectTypedOutcome(() => new Float32Array(2 ** 20), 16)).toThrow(/asked for 4194304 bytes from a 16-byte input/);
    expect(() => expectTypedOutcome(() => new ArrayBuffer(2 ** 22), 16)).toThrow(/asked for/);
    expect(expectTypedOutcome(() => new Uint8Array(64), 16)).toBe('ok');
    expect(
      expectTypedOutcome(() => {
        throw new CheckpointError('bad file');
      }, 16),
    ).toBe('CheckpointError');
    // The constructors are restored afterwards, and instanceof still holds inside the run.
    expect(
      expectTypedOutcome(() => {
        if (!(new Float32Array(1) instanceof Float32Array)) throw new Error('instanceof');
      }, 1),
    ).toBe('ok');
    expect(Float32Array.name).toBe('Float32Array');
  });
});

describe('fuzzed parsers: success or a typed error', () => {
  it('safetensors: random bytes, byte edits and header edits', () => {
    const valid = new Uint8Array(fixture('hf/gpt2/model.safetensors'));
    expect(expectTypedOutcome(() => readSafetensors(valid), valid.length)).toBe('ok');
    const outcomes = new Set<string>();
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 256 }), (bytes) => {
        outcomes.add(expectTypedOutcome(() => readSafetensors(bytes), bytes.length));
      }),
      fuzzParams(),
    );
    fc.assert(
      fc.property(fc.array(byteEdit, { minLength: 1, maxLength: 6 }), (edits) => {
        const bytes = mutateBytes(valid, edits);
        outcomes.add(expectTypedOutcome(() => readSafetensors(bytes), bytes.length));
      }),
      fuzzParams(),
    );
    // Header edits: parse the header, edit its JSON (shapes, offsets, dtypes), write it back
    // with a correct length prefix, so the reader gets past the framing.
    const headerLength = Number(new DataView(valid.buffer, valid.byteOffset).getBigUint64(0, true));
    const header = JSON.parse(new TextDecoder().decode(valid.subarray(8, 8 + headerLength))) as unknown;
    const body = valid.subarray(8 + headerLength);
    fc.assert(
      fc.property(fc.array(jsonEdit, { minLength: 1, maxLength: 4 }), (edits) => {
        const text = utf8.encode(JSON.stringify(mutateJson(header, edits)));
        const bytes = new Uint8Array(8 + text.length + body.length);
        new DataView(bytes.buffer).setBigUint64(0, BigInt(text.length), true);
        bytes.set(text, 8);
        bytes.set(body, 8 + text.length);
        outcomes.add(expectTypedOutcome(() => readSafetensors(bytes), bytes.length));
      }),
      fuzzParams(),
    );
    expect(outcomes).toContain('CheckpointError');
  });

  it('safetensors: a header that declares huge tensors is refused before allocating', () => {
    const header = JSON.stringify({ w: { dtype: 'F32', shape: [2 ** 20, 2 ** 20], data_offsets: [0, 2 ** 42] } });
    const text = utf8.encode(header);
    const bytes = new Uint8Array(8 + text.length + 16);
    new DataView(bytes.buffer).setBigUint64(0, BigInt(text.length), true);
    bytes.set(text, 8);
    expect(expectTypedOutcome(() => readSafetensors(bytes), bytes.length)).toBe('CheckpointError');
  });

  it('writeSafetensors round-trips what readSafetensors accepts', () => {
    fc.assert(
      fc.property(fc.array(fc.float({ noNaN: true }), { minLength: 1, maxLength: 24 }), (values) => {
        const data = Float32Array.from(values);
        const file = readSafetensors(writeSafetensors([['t', { dtype: 'F32', shape: [data.length], data }]]));
        expect(Array.from(file.tensors.get('t')?.data ?? [])).toEqual(Array.from(data));
      }),
      fuzzParams(50),
    );
  });

  it('BPE tokenizer.json (GPT-2, Llama-3, SentencePiece styles)', () => {
    for (const file of ['bpe/tokenizer.json', 'bpe/sp-metaspace.tokenizer.json', 'bpe/llama3.tokenizer.json']) {
      const valid = fixtureJson(file);
      const outcomes = fuzzJson(valid, (v) => BpeTokenizer.fromHuggingFace(v).encode('the cat sat, 123 émoji 🙂'));
      expect(outcomes.get('ok') ?? 0, file).toBeGreaterThan(0);
    }
  });

  it('wasmformer tokenizer JSON (BPE, WordPiece, char) as saved in checkpoints', () => {
    const bpe = BpeTokenizer.fromHuggingFace(fixtureJson('bpe/tokenizer.json')).toJSON();
    fuzzJson(bpe, (v) => BpeTokenizer.fromJSON(v).encode('the cat sat'));
    const wp = WordPieceTokenizer.fromHuggingFace(fixtureJson('wordpiece/trained/tokenizer.json')).toJSON();
    fuzzJson(wp, (v) => WordPieceTokenizer.fromJSON(v).encode('the cat sat'));
    const ch = CharTokenizer.fromText('hello world').toJSON();
    fuzzJson(ch, (v) => CharTokenizer.fromJSON(v).encode('hello'));
  });

  it('WordPiece tokenizer.json', () => {
    const outcomes = fuzzJson(fixtureJson('wordpiece/trained/tokenizer.json'), (v) =>
      WordPieceTokenizer.fromHuggingFace(v).encode('the cat sat'),
    );
    expect(outcomes.get('ok') ?? 0).toBeGreaterThan(0);
  });

  it('vocab.txt', () => {
    const valid = fixture('wordpiece/trained/vocab.txt').toString('utf8');
    const outcomes = new Set<string>();
    fc.assert(
      fc.property(fc.array(lineEdit, { minLength: 1, maxLength: 8 }), (edits) => {
        const text = mutateLines(valid, edits);
        outcomes.add(expectTypedOutcome(() => WordPieceTokenizer.fromVocabTxt(text).encode('the cat sat'), text.length * 3));
      }),
      fuzzParams(),
    );
    fc.assert(
      fc.property(fc.string({ unit: 'binary', maxLength: 200 }), (text) => {
        outcomes.add(expectTypedOutcome(() => WordPieceTokenizer.fromVocabTxt(text).encode('the cat'), text.length * 3));
      }),
      fuzzParams(),
    );
    expect(outcomes).toContain('ok');
  });

  it('vocab.json + merges.txt', () => {
    const vocab = fixtureJson('bpe/vocab.json');
    const merges = fixture('bpe/merges.txt').toString('utf8');
    const outcomes = new Set<string>();
    fc.assert(
      fc.property(fc.array(jsonEdit, { maxLength: 3 }), fc.array(lineEdit, { maxLength: 6 }), (vEdits, mEdits) => {
        const v = mutateJson(vocab, vEdits);
        const m = mutateLines(merges, mEdits);
        const size = JSON.stringify(v).length + m.length * 3;
        outcomes.add(expectTypedOutcome(() => BpeTokenizer.fromVocabMerges(v as Record<string, number>, m).encode('the cat sat'), size));
      }),
      fuzzParams(),
    );
    expect(outcomes).toContain('ok');
  });

  it('Hugging Face config.json (GPT-2, Llama, BERT)', () => {
    for (const dir of ['gpt2', 'llama', 'llama-rope-linear', 'gpt-neox', 'smollm3', 'bert-pretraining', 'bert-classifier']) {
      const valid = fixtureJson(`hf/${dir}/config.json`);
      const outcomes = fuzzJson(valid, (v) => {
        const hf = v as Record<string, unknown>;
        const arch = huggingFaceArch(hf);
        const input = arch === 'bert' ? configFromHuggingFace(hf, bertHeadsOf(['cls.predictions.bias'])) : configFromHuggingFace(hf);
        return resolveConfig(input);
      });
      expect(outcomes.get('ok') ?? 0, dir).toBeGreaterThan(0);
    }
  });
});
