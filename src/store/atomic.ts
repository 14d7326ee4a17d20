/**
 * Crash-safe file primitives. A crash, Ctrl-C or kill -9 at any moment must leave
 * either the old or the new content, never a mix. The tools are POSIX rename
 * (atomic within one filesystem) and fsync (so the rename is not reordered before
 * the data on power loss).
 *
 * Temporaries are named `.<name>.tmp-<pid>-<random>` beside their target: the same
 * folder guarantees the same filesystem (rename cannot cross filesystems), the
 * leading dot keeps them out of listings, and the pid lets cleanup spare the
 * temporaries of another process that is still writing.
 */
import { randomBytes } from 'node:crypto';
import { lstat, mkdir, open, readdir, rename, rm, unlink, type FileHandle } from 'node:fs/promises';
import path from 'node:path';
import { RunStoreError } from '../errors.js';

const TEMP_RE = /^\.(.+)\.tmp-(\d+)-[0-9a-f]+$/;

/** A fresh temporary path beside `target`, matched by removeStaleTemps. */
export function tempPathFor(target: string): string {
  const dir = path.dirname(target);
  return path.join(dir, `.${path.basename(target)}.tmp-${process.pid}-${randomBytes(6).toString('hex')}`);
}

/** Creates an empty staging folder beside `target`, to fill and then hand to replaceDirAtomic. */
export async function makeStagingDir(target: string): Promise<string> {
  const staged = tempPathFor(target);
  await guard('create staging folder', staged, () => mkdir(staged, { recursive: false }));
  return staged;
}

export async function writeFileAtomic(file: string, data: string | Uint8Array): Promise<void> {
  const tmp = tempPathFor(file);
  try {
    // 'wx': the name is random, but never write through an existing file or link.
    const fh = await open(tmp, 'wx');
    try {
      await fh.writeFile(data);
      // Data must be on disk before the rename is, or a power loss could leave
      // the new name pointing at an empty file.
      await fh.sync();
    } finally {
      await fh.close();
    }
    await rename(tmp, file);
    // The rename lives in the folder's entries; without this it may not survive a power loss.
    await fsyncDir(path.dirname(file));
  } catch (err) {
    await unlink(tmp).catch(() => {});
    throw storeError('write', file, err);
  }
}

export async function replaceDirAtomic(staged: string, target: string): Promise<void> {
  const old = `${target}.old`;
  const parent = path.dirname(target);
  await guard('replace', target, async () => {
    const hasTarget = await exists(target);
    if (await exists(old)) {
      if (hasTarget) {
        // Left by a crash after the swap but before cleanup: stale, and it would
        // make the rename below fail. The target still has to move aside, as in
        // the branch below: rename(2) cannot replace a non-empty folder.
        await rm(old, { recursive: true, force: true });
        await rename(target, old);
      }
      // Otherwise a crash happened mid-swap and `old` is the current content;
      // keeping it as the backup and moving `staged` in completes that swap.
    } else if (hasTarget) {
      // Two renames because rename(2) cannot replace a non-empty folder. In
      // between, target is missing and target.old holds it: recoverDir's case.
      await rename(target, old);
    }
    await rename(staged, target);
    // Persist both renames before deleting the backup, so there is no moment
    // when neither version is durable.
    await fsyncDir(parent);
    await rm(old, { recursive: true, force: true });
  });
}

export async function recoverDir(target: string): Promise<void> {
  const old = `${target}.old`;
  const parent = path.dirname(target);
  await guard('recover', target, async () => {
    if (await exists(old)) {
      if (await exists(target)) {
        // The swap finished; only the cleanup was lost.
        await rm(old, { recursive: true, force: true });
      } else {
        // Crashed between the two renames: the old content is the last complete one.
        await rename(old, target);
        await fsyncDir(parent);
      }
    }
    await removeTemps(parent, path.basename(target));
    if (await isDir(target)) await removeStaleTemps(target);
  });
}

export async function appendLineDurable(file: string, line: string): Promise<void> {
  const body = line.endsWith('\n') ? line.slice(0, -1) : line;
  if (/[\r\n]/.test(body)) throw new Error(`appendLineDurable: line contains a line break: ${JSON.stringify(line)}`);
  const bytes = Buffer.from(`${body}\n`, 'utf8');
  await guard('append to', file, async () => {
    const created = !(await exists(file));
    // 'a+' rather than 'a': checking for a torn tail needs to read.
    const fh = await open(file, 'a+');
    try {
      if (!created) await dropTornTail(fh);
      // O_APPEND plus one write call: a kill lands either before or after the
      // whole line; the loop only matters on filesystems that write short.
      let done = 0;
      while (done < bytes.length) {
        const { bytesWritten } = await fh.write(bytes, done, bytes.length - done);
        done += bytesWritten;
      }
      await fh.sync();
    } finally {
      await fh.close();
    }
    if (created) await fsyncDir(path.dirname(file));
  });
}

export async function removeStaleTemps(dir: string): Promise<void> {
  await guard('clean up', dir, () => removeTemps(dir, undefined));
}

/**
 * Removes `.<name>.tmp-<pid>-*` entries in `dir` (for one name, or any). Entries
 * of another live process are kept: it may be mid-write. Our own pid's are
 * removed, since callers clean up before writing and in containers a restarted
 * xrun often gets the same pid as the one that crashed.
 */
async function removeTemps(dir: string, name: string | undefined): Promise<void> {
  let entries: string[];
  try {
    entries = await readdir(dir);
  } catch (err) {
    if (errCode(err) === 'ENOENT') return;
    throw err;
  }
  for (const entry of entries) {
    const m = TEMP_RE.exec(entry);
    if (!m || (name !== undefined && m[1] !== name)) continue;
    const pid = Number(m[2]);
    if (pid !== process.pid && isAlive(pid)) continue;
    await rm(path.join(dir, entry), { recursive: true, force: true });
  }
}

/**
 * A power loss mid-append can leave a partial last line. Appending after it would
 * glue the new row onto the fragment, corrupting a row in the middle of the file;
 * cutting back to the last newline restores the old content instead. Files
 * written here therefore consist of newline-terminated lines only.
 */
async function dropTornTail(fh: FileHandle): Promise<void> {
  const { size } = await fh.stat();
  if (size === 0) return;
  const chunk = Buffer.alloc(Math.min(size, 64 * 1024));
  let end = size;
  let first = true;
  while (end > 0) {
    const len = Math.min(chunk.length, end);
    const start = end - len;
    await readFully(fh, chunk, len, start);
    if (first && chunk[len - 1] === 0x0a) return;
    first = false;
    const nl = chunk.subarray(0, len).lastIndexOf(0x0a);
    if (nl >= 0) {
      await fh.truncate(start + nl + 1);
      return;
    }
    end = start;
  }
  await fh.truncate(0);
}

async function readFully(fh: FileHandle, buf: Buffer, len: number, pos: number): Promise<void> {
  let got = 0;
  while (got < len) {
    const { bytesRead } = await fh.read(buf, got, len - got, pos + got);
    if (bytesRead === 0) break;
    got += bytesRead;
  }
}

async function fsyncDir(dir: string): Promise<void> {
  let fh;
  try {
    fh = await open(dir, 'r');
    await fh.sync();
  } catch (err) {
    // Some platforms (Windows) and filesystems cannot open or fsync a folder;
    // there the rename is as durable as the OS makes it.
    if (!['EISDIR', 'EPERM', 'EACCES', 'EINVAL', 'ENOTSUP', 'EBADF'].includes(errCode(err) ?? '')) throw err;
  } finally {
    await fh?.close();
  }
}

async function exists(p: string): Promise<boolean> {
  try {
    await lstat(p);
    return true;
  } catch (err) {
    if (errCode(err) === 'ENOENT') return false;
    throw err;
  }
}

async function isDir(p: string): Promise<boolean> {
  try {
    return (await lstat(p)).isDirectory();
  } catch (err) {
    if (errCode(err) === 'ENOENT') return false;
    throw err;
  }
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    // EPERM: it exists but belongs to someone else.
    return errCode(err) === 'EPERM';
  }
}

function errCode(err: unknown): string | undefined {
  return (err as NodeJS.ErrnoException | undefined)?.code;
}

async function guard<T>(action: string, target: string, f: () => Promise<T>): Promise<T> {
  try {
    return await f();
  } catch (err) {
    throw storeError(action, target, err);
  }
}

function storeError(action: string, target: string, err: unknown): unknown {
  if (err instanceof RunStoreError) return err;
  const code = errCode(err);
  // Plain bugs stay plain; filesystem refusals become user-facing errors.
  if (code === undefined) return err;
  return new RunStoreError(`could not ${action} ${target}: ${code} (${(err as Error).message})`, {
    hint:
      code === 'ENOSPC' || code === 'EDQUOT'
        ? 'free some disk space and run again; completed runs are intact'
        : 'check that the runs folder exists, is writable and is on a local filesystem',
    cause: err,
  });
}
