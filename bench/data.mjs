// Where the benchmarks and scripts find their corpora. Tiny Shakespeare ships in data/ (see
// data/README.md); other corpora (GLUE SST-2, any text of one's own) are given with --data, and
// a missing file stops the run with a message that says where to get it.
import { existsSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');

/** The repository's data folder. */
export const DATA_DIR = join(root, 'data');

/** Tiny Shakespeare (1,115,394 bytes, public domain), shipped with the repository. */
export const SHAKESPEARE = join(DATA_DIR, 'tinyshakespeare.txt');

/** The default place of GLUE SST-2 (not shipped): `data/sst2/{train,dev}.tsv`. */
export const SST2_DIR = join(DATA_DIR, 'sst2');

/** How to get SST-2, printed when it is missing. */
export const SST2_HELP = `SST-2 is not shipped with wasmformer. Get it from either source and pass the folder with --data:
  - the GLUE benchmark (https://gluebenchmark.com/tasks, "SST-2"): unzip SST-2.zip; its folder
    holds train.tsv and dev.tsv;
  - the Hugging Face dataset stanfordnlp/sst2: write its "train" and "validation" splits as
    train.tsv and dev.tsv, one "sentence<TAB>label" row per example under that header.
Expected layout: <dir>/train.tsv (67,349 rows) and <dir>/dev.tsv (872 rows), tab-separated with a
header row naming a "label" column (0 = negative, 1 = positive) and a text column ("sentence").
The default <dir> is data/sst2/ (ignored by git).`;

/**
 * Reads a text file given to a benchmark, or stops the process with exit code 2 and a message
 * saying what the file is and where to get it (no stack trace).
 */
export function readDataFile(path, { what, help }) {
  if (!existsSync(path) || !statSync(path).isFile()) {
    console.error(`error: ${what} not found at ${path}\n${help}`);
    process.exit(2);
  }
  return readFileSync(path, 'utf8');
}

/** Reads a text corpus: the shipped Tiny Shakespeare unless `path` names another file. */
export function readCorpus(path = SHAKESPEARE) {
  const help =
    path === SHAKESPEARE
      ? 'data/tinyshakespeare.txt ships with the repository: restore it with `git checkout -- data/tinyshakespeare.txt`.'
      : 'Pass a UTF-8 text file with --data <file>.';
  return readDataFile(path, { what: 'the text corpus', help });
}

/**
 * Reads one SST-2 split (`train` or `dev`) from `dir`: rows of `{ label: 0 | 1, sentence }`.
 * The header row names the columns, so GLUE's `sentence<TAB>label` and a `label<TAB>sentence`
 * export both work.
 */
export function readSst2(dir, split) {
  const lines = readDataFile(join(dir, `${split}.tsv`), { what: `SST-2 ${split}.tsv`, help: SST2_HELP })
    .split(/\r?\n/)
    .filter((line) => line !== '');
  const header = (lines[0] ?? '').split('\t');
  const labelAt = header.indexOf('label');
  const textAt = header.findIndex((name, i) => i !== labelAt && ['sentence', 'content', 'text'].includes(name));
  if (labelAt < 0 || textAt < 0) {
    console.error(
      `error: ${join(dir, `${split}.tsv`)} has header "${header.join('\\t')}"; expected a "label" and a "sentence" column\n${SST2_HELP}`,
    );
    process.exit(2);
  }
  return lines.slice(1).map((line) => {
    const cells = line.split('\t');
    return { label: Number(cells[labelAt]), sentence: cells[textAt] };
  });
}
