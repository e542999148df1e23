/**
 * Node-only file helpers for checkpoints: an atomic write (a reader never sees a half-written
 * file, and a failed write leaves the previous file intact) and a read that reports a missing
 * file as a {@link CheckpointError}.
 */
import { randomBytes } from 'node:crypto';
import { type FileHandle, open, readFile, rename, unlink } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { CheckpointError, InvalidArgumentError } from '../errors.js';

/** What {@link writeFileAtomic} writes: bytes, a UTF-8 string, or a function producing either. */
export type AtomicWriteData = Uint8Array | string | (() => Uint8Array | string);

function errorCode(error: unknown): string | undefined {
  return typeof error === 'object' && error !== null && 'code' in error ? String((error as { code: unknown }).code) : undefined;
}

function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

/** fsyncs a directory so a rename in it is durable; ignored where directories cannot be opened (Windows). */
async function syncDirectory(dir: string): Promise<void> {
  let handle: FileHandle | undefined;
  try {
    handle = await open(dir, 'r');
    await handle.sync();
  } catch {
    // Not supported on this platform or file system; the rename itself is still atomic.
  } finally {
    await handle?.close().catch(() => undefined);
  }
}

/**
 * Writes a file atomically: the data goes to `<name>.tmp-<pid>-<random>` in the same directory,
 * is fsynced, then renamed over `path`, and the directory is fsynced where supported.
 *
 * If anything fails — including `data` being a function that throws — the temporary file is
 * removed and any existing file at `path` is left unchanged. The producer function is called
 * after the temporary file is created, so it can build large buffers lazily.
 *
 * @param path - the destination file.
 * @param data - bytes, a string (written as UTF-8), or a function returning either.
 * @throws CheckpointError (with the path and the system error as `cause`) if a file system
 *   operation fails, e.g. the directory does not exist.
 * @throws InvalidArgumentError if `data` (or what the function returns) is not bytes or a string;
 *   an error thrown by a producer function is rethrown unchanged.
 */
export async function writeFileAtomic(path: string, data: AtomicWriteData): Promise<void> {
  const dir = dirname(path);
  const temp = join(dir, `${basename(path)}.tmp-${process.pid}-${randomBytes(6).toString('hex')}`);
  let handle: FileHandle | undefined;
  try {
    handle = await open(temp, 'wx');
  } catch (error) {
    throw new CheckpointError(`could not create a temporary file to write ${path}: ${messageOf(error)}`, { cause: error });
  }
  let stage: 'produce' | 'write' | 'rename' = 'produce';
  try {
    const payload = typeof data === 'function' ? data() : data;
    if (typeof payload !== 'string' && !(payload instanceof Uint8Array)) {
      throw new InvalidArgumentError(`writeFileAtomic: data must be a Uint8Array or a string, got ${typeof payload}`);
    }
    stage = 'write';
    await handle.writeFile(payload);
    await handle.sync();
    await handle.close();
    handle = undefined;
    stage = 'rename';
    await rename(temp, path);
  } catch (error) {
    await handle?.close().catch(() => undefined);
    await unlink(temp).catch(() => undefined);
    if (stage === 'produce') throw error;
    const action = stage === 'write' ? 'write' : 'rename the temporary file onto';
    throw new CheckpointError(`could not ${action} ${path}: ${messageOf(error)}`, { cause: error });
  }
  await syncDirectory(dir);
}

/**
 * Reads a whole file.
 *
 * @param path - the file to read.
 * @param what - what the file is, for the error message (e.g. `"checkpoint"`).
 * @returns the file's bytes as a plain Uint8Array.
 * @throws CheckpointError naming `what` and `path` if the file is missing or unreadable.
 */
export async function readFileChecked(path: string, what: string): Promise<Uint8Array> {
  try {
    const buffer = await readFile(path);
    return new Uint8Array(buffer.buffer, buffer.byteOffset, buffer.byteLength);
  } catch (error) {
    const code = errorCode(error);
    if (code === 'ENOENT') throw new CheckpointError(`${what} not found: ${path}`, { cause: error });
    if (code === 'EISDIR') throw new CheckpointError(`${what} path is a directory, expected a file: ${path}`, { cause: error });
    throw new CheckpointError(`could not read ${what} at ${path}: ${messageOf(error)}`, { cause: error });
  }
}
