import { mkdtemp, readdir, readFile, rm, writeFile, mkdir } from 'node:fs/promises';
import { readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { CheckpointError, InvalidArgumentError } from '../../src/errors.js';
import { readFileChecked, writeFileAtomic } from '../../src/io/files.node.js';

let dir = '';
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'wasmformer-files-'));
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('writeFileAtomic', () => {
  it('writes bytes and strings, overwriting an existing file, leaving no temp files', async () => {
    const path = join(dir, 'ckpt.bin');
    await writeFileAtomic(path, new Uint8Array([1, 2, 3]));
    expect([...(await readFile(path))]).toEqual([1, 2, 3]);
    await writeFileAtomic(path, 'héllo');
    expect(await readFile(path, 'utf8')).toBe('héllo');
    await writeFileAtomic(path, () => new Uint8Array([9]).subarray(0, 1));
    expect([...(await readFile(path))]).toEqual([9]);
    expect(await readdir(dir)).toEqual(['ckpt.bin']);
  });

  it('keeps the previous content and removes the temp file when the producer throws', async () => {
    const path = join(dir, 'ckpt.bin');
    await writeFile(path, 'old');
    let during: string[] = [];
    const boom = new Error('serialisation failed');
    await expect(
      writeFileAtomic(path, () => {
        during = readdirSync(dir).sort();
        throw boom;
      }),
    ).rejects.toBe(boom);
    // The temp file existed next to the target while producing, and is gone afterwards.
    expect(during).toHaveLength(2);
    expect(during[0]).toBe('ckpt.bin');
    expect(during[1]).toMatch(/^ckpt\.bin\.tmp-\d+-[0-9a-f]+$/);
    expect(await readFile(path, 'utf8')).toBe('old');
    expect(await readdir(dir)).toEqual(['ckpt.bin']);
  });

  it('rejects a producer result that is not bytes or a string, cleaning up', async () => {
    const path = join(dir, 'a.bin');
    await expect(writeFileAtomic(path, () => 42 as unknown as string)).rejects.toBeInstanceOf(InvalidArgumentError);
    expect(await readdir(dir)).toEqual([]);
  });

  it('throws CheckpointError for a missing directory and leaves nothing behind', async () => {
    const path = join(dir, 'no-such-dir', 'ckpt.bin');
    await expect(writeFileAtomic(path, 'data')).rejects.toBeInstanceOf(CheckpointError);
    await expect(writeFileAtomic(path, 'data')).rejects.toThrow(/no-such-dir/);
    expect(await readdir(dir)).toEqual([]);
  });

  it('throws CheckpointError when the rename fails (target is a non-empty directory), keeping it intact', async () => {
    const path = join(dir, 'taken');
    await mkdir(path);
    await writeFile(join(path, 'inside'), 'keep');
    await expect(writeFileAtomic(path, 'data')).rejects.toThrow(CheckpointError);
    expect((await readdir(dir)).sort()).toEqual(['taken']);
    expect(await readFile(join(path, 'inside'), 'utf8')).toBe('keep');
  });
});

describe('readFileChecked', () => {
  it('returns the bytes as a plain Uint8Array', async () => {
    const path = join(dir, 'x.bin');
    await writeFile(path, new Uint8Array([5, 6]));
    const bytes = await readFileChecked(path, 'checkpoint');
    expect(bytes.constructor).toBe(Uint8Array);
    expect([...bytes]).toEqual([5, 6]);
  });

  it('throws CheckpointError naming what and where for a missing file or a directory', async () => {
    const missing = join(dir, 'missing.bin');
    await expect(readFileChecked(missing, 'checkpoint')).rejects.toBeInstanceOf(CheckpointError);
    await expect(readFileChecked(missing, 'checkpoint')).rejects.toThrow(`checkpoint not found: ${missing}`);
    await expect(readFileChecked(dir, 'tokenizer')).rejects.toThrow(/tokenizer path is a directory/);
  });
});
