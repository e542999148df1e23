/**
 * A worker of the thread pool that dies in the middle of a call (here it aborts, as running out
 * of memory in it would) turns that call into a ThreadPoolError instead of a wait that never
 * ends; the objects the call was using then say they are lost, a checkpoint saved before loads
 * and trains, and new models run on one thread. Each case runs in a child process
 * (pool-lost-child.mjs), so that a regression is a timeout this test reports, not a hung run.
 */
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const CHILD = fileURLToPath(new URL('./pool-lost-child.mjs', import.meta.url));

interface Outcome {
  error: string | null;
  message?: string;
  ms: number;
}
interface Report {
  skipped?: string;
  injected: boolean;
  failed: Outcome;
  threadsAfter: number;
  notes: string[];
  reusedModel: Outcome;
  resumedLoss: number;
  freshFinite: boolean;
}

function runChild(mode: 'train' | 'infer'): Report {
  const child = spawnSync(process.execPath, [...process.execArgv.filter((a) => a.startsWith('--experimental-wasm')), CHILD, mode], {
    encoding: 'utf8',
    timeout: 60_000,
    killSignal: 'SIGKILL',
  });
  if (child.signal) throw new Error(`the ${mode} call did not return within 60 s (killed): the caller waited on the lost worker`);
  expect(child.status, child.stderr).toBe(0);
  return JSON.parse(child.stdout.trim().split('\n').at(-1) ?? '{}') as Report;
}

describe.each(['train', 'infer'] as const)('a pool worker that aborts during a %s call', (mode) => {
  it('gives a ThreadPoolError for that call, and the runtime goes on on one thread', (context) => {
    const report = runChild(mode);
    if (report.skipped) context.skip();
    expect(report.injected).toBe(true);
    expect(report.failed.error).toBe('ThreadPoolError');
    expect(report.failed.message).toContain('did not complete');
    expect(report.threadsAfter).toBe(1);
    expect(report.notes.some((note) => note.includes('stopped during a call'))).toBe(true);
    // The model the call was using is not silently half-updated: it says so on every use.
    expect(report.reusedModel.error).toBe('ThreadPoolError');
    expect(report.reusedModel.message).toContain('load it again from its last checkpoint');
    expect(Number.isFinite(report.resumedLoss)).toBe(true);
    expect(report.freshFinite).toBe(true);
  });
});
