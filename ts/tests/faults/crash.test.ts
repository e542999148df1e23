/**
 * Crash safety of checkpoints (after SQLite's and LevelDB's crash tests): a child process
 * trains and saves in a loop and is killed with SIGKILL at random moments; after every kill
 * the checkpoint on disk must load, hold at least the last save the child reported finished,
 * resume training, and leave no temporary files piling up. Rounds: WASMFORMER_CRASH_ROUNDS
 * (default 24).
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CharTokenizer, Trainer, init, loadCheckpoint, saveCheckpoint } from '../../../dist/index.node.js';

const CHILD = fileURLToPath(new URL('./crash-child.mjs', import.meta.url));
const ROUNDS = Number(process.env.WASMFORMER_CRASH_ROUNDS ?? 24);

/** A seeded stream of delays, so a failing round repeats (mulberry32). */
function delays(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

interface Round {
  /** The step of the last save the child reported as returned before it was killed. */
  lastSaved: number;
  /** The step the child started from (what it loaded). */
  started: number;
}

/** Starts the writer, lets it run for `ms` after it started (or after its first save), kills it. */
function runAndKill(dir: string, ms: number, afterFirstSave: boolean): Promise<Round> {
  return new Promise((resolve, reject) => {
    const child: ChildProcess = spawn(process.execPath, [CHILD, dir], { stdio: ['ignore', 'pipe', 'pipe'] });
    const round: Round = { lastSaved: -1, started: -1 };
    let stderr = '';
    let timer: NodeJS.Timeout | undefined;
    const arm = () => {
      timer ??= setTimeout(() => child.kill('SIGKILL'), ms);
    };
    let buffered = '';
    child.stdout?.on('data', (chunk: Buffer) => {
      buffered += chunk.toString('utf8');
      let nl = buffered.indexOf('\n');
      while (nl >= 0) {
        const event = JSON.parse(buffered.slice(0, nl)) as { event: string; step: number };
        buffered = buffered.slice(nl + 1);
        if (event.event === 'start') {
          round.started = event.step;
          if (!afterFirstSave) arm();
        } else if (event.event === 'saved') {
          round.lastSaved = event.step;
          arm();
        }
        nl = buffered.indexOf('\n');
      }
    });
    child.stderr?.on('data', (chunk: Buffer) => {
      stderr += chunk.toString('utf8');
    });
    child.on('exit', (code, signal) => {
      clearTimeout(timer);
      if (signal === 'SIGKILL') resolve(round);
      else reject(new Error(`the writer exited by itself (code ${code}, signal ${signal}): ${stderr}`));
    });
  });
}

describe('checkpoints survive SIGKILL during training and saving', () => {
  let root = '';
  beforeAll(async () => {
    await init({ threads: 1 });
    root = mkdtempSync(join(tmpdir(), 'wasmformer-crash-'));
  });
  afterAll(() => {
    rmSync(root, { recursive: true, force: true });
  });

  it(`loads, resumes and cleans up after ${ROUNDS} kills at random moments`, async () => {
    const dir = join(root, 'ckpt');
    const next = delays(20261207);
    let onDisk = -1;
    for (let round = 0; round < ROUNDS; round++) {
      // Most kills land inside the save loop; every fourth one early, right after start-up.
      const early = round % 4 === 3;
      const { lastSaved, started } = await runAndKill(dir, Math.floor(next() * (early ? 30 : 400)), !early);
      const entries = readdirSync(root).sort();
      // What a kill may leave: the checkpoint, a half-written `.saving` and the `.previous` one.
      expect(
        entries.every((e) => ['ckpt', 'ckpt.previous', 'ckpt.saving'].includes(e)),
        `round ${round}: ${entries.join(', ')}`,
      ).toBe(true);
      if (lastSaved < 0 && onDisk < 0) continue; // killed before its first save: nothing to load yet
      if (started >= 0) expect(started, `round ${round}: the writer resumed from an older step`).toBeGreaterThanOrEqual(onDisk);
      const loaded = await loadCheckpoint(dir);
      try {
        const { tokenizer, trainerOptions } = loaded;
        if (!(tokenizer instanceof CharTokenizer) || !trainerOptions)
          throw new Error(`round ${round}: the checkpoint lost its tokenizer or trainer options`);
        const trainer = new Trainer(
          loaded.model,
          { train: Int32Array.from(tokenizer.encode('the dog chased the cat . '.repeat(8))) },
          trainerOptions,
        );
        loaded.restore(trainer);
        // Every save the writer reported as finished is on disk (it may be one step newer).
        expect(trainer.step, `round ${round}`).toBeGreaterThanOrEqual(Math.max(lastSaved, onDisk));
        onDisk = trainer.step;
        expect(Number.isFinite(trainer.trainStep().loss)).toBe(true);
      } finally {
        loaded.model.dispose();
      }
    }
    expect(onDisk, 'no round got as far as a save').toBeGreaterThan(0);
    // One clean save afterwards leaves only the checkpoint itself.
    const loaded = await loadCheckpoint(dir);
    await saveCheckpoint(dir, { model: loaded.model, tokenizer: loaded.tokenizer });
    loaded.model.dispose();
    expect(readdirSync(root)).toEqual(['ckpt']);
  }, 600_000);
});
