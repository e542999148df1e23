/**
 * The lab's shared vocabulary: one measured row ({@link LabRow}), what every experiment gets
 * to record rows and write files ({@link LabContext}), and the experiment itself
 * ({@link Experiment}). The runner (runner.ts) builds the context; experiments
 * (experiments/*.ts) only see this interface.
 */
import { appendFileSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import cliProgress from 'cli-progress';

/**
 * One measurement as an experiment records it: which variant (e.g. `'rope'`), which seed, which
 * metric (e.g. `'val_loss'`) and its value, plus any extra labels (`bucket: 32`, `lr: 0.003`).
 */
export interface LabRowInput {
  /** The variant being compared, e.g. a positional encoding. */
  variant: string;
  /** The seed of this run. */
  seed: number;
  /** What was measured, e.g. `'val_loss'`, `'accuracy'`. */
  metric: string;
  /** The measured value (NaN or ±Infinity for a diverged run; written as null in JSON). */
  value: number;
  /** Extra labels of the row. */
  [k: string]: string | number;
}

/** One recorded measurement: a {@link LabRowInput} and the experiment's name (a line of results.jsonl). */
export interface LabRow extends LabRowInput {
  /** The experiment's name (filled in by the context). */
  experiment: string;
}

/** A progress bar of {@link LabContext.progress}. */
export interface LabProgress {
  /** Advances by `n` (default 1). */
  tick(n?: number): void;
  /** Stops the bar (idempotent). */
  done(): void;
}

/** What an experiment's `run` gets: its settings, and where its rows, files and messages go. */
export interface LabContext {
  /** The experiment's name (also its directory name). */
  readonly name: string;
  /** The seeds to run, e.g. `[1, 2, 3]`. */
  readonly seeds: readonly number[];
  /** `--quick`: the smallest sizes that still exercise every code path (for tests; ≈ 20 s). */
  readonly quick: boolean;
  /** The experiment's output directory, `runs/lab/<name>`. */
  readonly outDir: string;
  /** Appends one row to `results.jsonl` (and to {@link LabContext.rows}). */
  record(row: LabRowInput): void;
  /** Every row recorded so far in this run. */
  rows(): readonly LabRow[];
  /** A progress bar of `total` ticks (silent in tests and when output is not a terminal). */
  progress(label: string, total: number): LabProgress;
  /** Writes `outDir/<name>` (report.md, plots). */
  writeFile(name: string, text: string): void;
  /** Prints a line (silent in tests). */
  log(message: string): void;
}

/** One lab experiment: a module under experiments/ that runs, records rows and writes report.md and plots. */
export interface Experiment {
  /** Short name, the CLI argument and directory (`order`, `norm`, …). */
  name: string;
  /** One-line title for the index and `lab list`. */
  title: string;
  /** Runs every variant × seed, records rows, writes `report.md` and SVG plots. */
  run(ctx: LabContext): Promise<void>;
}

/** Options of {@link createContext}. */
export interface LabContextOptions {
  /** The experiment's name. */
  name: string;
  /** Seeds to run. */
  seeds: readonly number[];
  /** Quick mode. */
  quick: boolean;
  /** The experiment's output directory (created; a previous results.jsonl is replaced). */
  outDir: string;
  /** No progress bars and no log lines (tests). */
  silent?: boolean;
}

/** A JSON value of a row: non-finite numbers become null (JSON has no NaN). */
function jsonValue(value: string | number): string | number | null {
  return typeof value === 'number' && !Number.isFinite(value) ? null : value;
}

/**
 * The context the runner hands to one experiment: rows go to `outDir/results.jsonl`, one JSON
 * object per line; files to `outDir`.
 */
export function createContext(options: LabContextOptions): LabContext {
  const { name, seeds, quick, outDir, silent = false } = options;
  mkdirSync(outDir, { recursive: true });
  const resultsPath = join(outDir, 'results.jsonl');
  writeFileSync(resultsPath, '');
  const rows: LabRow[] = [];
  const interactive = !silent && process.stderr.isTTY === true;
  return {
    name,
    seeds,
    quick,
    outDir,
    record(row) {
      const full: LabRow = { ...row, experiment: name };
      rows.push(full);
      const ordered = { experiment: name, ...row };
      appendFileSync(resultsPath, `${JSON.stringify(Object.fromEntries(Object.entries(ordered).map(([k, v]) => [k, jsonValue(v)])))}\n`);
    },
    rows: () => rows,
    progress(label, total) {
      if (!interactive) {
        if (!silent) console.error(`${name}: ${label} (${total})`);
        return { tick() {}, done() {} };
      }
      const bar = new cliProgress.SingleBar(
        {
          format: `${name} ${label} |{bar}| {value}/{total} | {duration_formatted} | ETA {eta_formatted}`,
          hideCursor: true,
          stream: process.stderr,
        },
        cliProgress.Presets.shades_classic,
      );
      bar.start(total, 0);
      let stopped = false;
      return {
        tick: (n = 1) => bar.increment(n),
        done: () => {
          if (!stopped) bar.stop();
          stopped = true;
        },
      };
    },
    writeFile(file, text) {
      writeFileSync(join(outDir, file), text);
    },
    log(message) {
      if (!silent) console.error(`${name}: ${message}`);
    },
  };
}

/**
 * The package root: the nearest directory above this module with wasmformer's package.json
 * (dist/ in the package, ts/src/lab/ in the repository).
 */
export function packageRoot(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (;;) {
    const manifest = join(dir, 'package.json');
    if (existsSync(manifest) && (JSON.parse(readFileSync(manifest, 'utf8')) as { name?: string }).name === 'wasmformer') return dir;
    const parent = dirname(dir);
    if (parent === dir) throw new Error('lab: cannot find the wasmformer package root above this module');
    dir = parent;
  }
}

/**
 * The text of `data/<file>` in the package or the repository (e.g. `tinyshakespeare.txt`).
 * @throws Error naming the path when the file is missing
 */
export function readDataFile(file: string): string {
  const path = join(packageRoot(), 'data', file);
  if (!existsSync(path)) throw new Error(`lab: ${path} is missing (it ships in the wasmformer package's data/ folder)`);
  return readFileSync(path, 'utf8');
}
