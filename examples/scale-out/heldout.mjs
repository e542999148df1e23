// The corpus and the held-out windows that every step of the scale-out example uses, so that the
// loss wasmformer computes and the loss PyTorch computes are of the same tokens.
// train_ddp.py implements the same definition in Python; export.mjs records its parameters in
// scale-out.json next to the model, and the other two steps read them from there.
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';

/**
 * The parameters export.mjs records:
 * `{ data, lines, blockSize, windows }` — the text file, how many of its lines are used (null:
 * all), the window length T and the number of held-out windows.
 */
export async function readSetup(modelDir) {
  return JSON.parse(await readFile(join(modelDir, 'scale-out.json'), 'utf8'));
}

/** The corpus text: the first `lines` lines of `data` (all of them when `lines` is null). */
export async function readText({ data, lines }) {
  const text = await readFile(data, 'utf8');
  return lines === null ? text : text.split('\n').slice(0, lines).join('\n');
}

/**
 * Splits token ids into training ids (the first 90%) and held-out windows: `windows`
 * consecutive, non-overlapping windows of T = `blockSize` tokens from the start of the last 10%,
 * each with its next-token targets. inputs, targets: [windows, T] int32.
 */
export function splitIds(ids, { blockSize, windows }) {
  const nVal = Math.floor(ids.length / 10);
  const train = ids.subarray(0, ids.length - nVal);
  const val = ids.subarray(ids.length - nVal);
  if (windows * blockSize + 1 > val.length) {
    throw new Error(`the held-out part has ${val.length} tokens; ${windows} windows of ${blockSize} need ${windows * blockSize + 1}`);
  }
  const inputs = val.slice(0, windows * blockSize);
  const targets = val.slice(1, windows * blockSize + 1);
  return { train, heldOut: { inputs, targets, windows, blockSize } };
}

/** The mean next-token cross-entropy of `model` over the held-out windows. */
export function heldOutLoss(model, { inputs, targets, windows, blockSize }) {
  return model.loss(inputs, targets, windows, blockSize);
}
