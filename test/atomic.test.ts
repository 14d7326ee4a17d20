import { spawn } from 'node:child_process';
import { mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { RunStoreError } from '../src/errors.js';
import {
  appendLineDurable,
  makeStagingDir,
  recoverDir,
  removeStaleTemps,
  replaceDirAtomic,
  writeFileAtomic,
} from '../src/store/atomic.js';

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), 'xrun-atomic-'));
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

const ls = async (d: string) => (await readdir(d)).sort();
/** A pid no process can have: above Linux's largest pid_max. */
const DEAD_PID = 4_194_304 + 17;

describe('writeFileAtomic', () => {
  it('creates and replaces content, leaving no temporaries', async () => {
    const file = path.join(dir, 'config.json');
    await writeFileAtomic(file, 'first');
    expect(await readFile(file, 'utf8')).toBe('first');
    await writeFileAtomic(file, Uint8Array.from([1, 2, 3]));
    expect(Array.from(await readFile(file))).toEqual([1, 2, 3]);
    await writeFileAtomic(file, '');
    expect(await readFile(file, 'utf8')).toBe('');
    expect(await ls(dir)).toEqual(['config.json']);
  });

  it('fails with a RunStoreError when the folder is missing', async () => {
    const file = path.join(dir, 'missing', 'x.json');
    await expect(writeFileAtomic(file, 'x')).rejects.toBeInstanceOf(RunStoreError);
    expect(await ls(dir)).toEqual([]);
  });

  it('leaves the old or the new content when killed with SIGKILL mid-write', async () => {
    const file = path.join(dir, 'big.txt');
    const a = 'a'.repeat(1 << 20);
    const b = 'b'.repeat(1 << 20);
    await writeFile(file, a);
    const module = path.join(path.dirname(fileURLToPath(import.meta.url)), '..', 'src', 'store', 'atomic.ts');
    const script = `
      const { writeFileAtomic } = await import(${JSON.stringify(module)});
      const a = 'a'.repeat(1 << 20), b = 'b'.repeat(1 << 20);
      for (let i = 0; ; i++) {
        await writeFileAtomic(${JSON.stringify(file)}, i % 2 ? a : b);
        if (i === 0) console.log('started');
      }`;
    for (let round = 0; round < 4; round++) {
      const child = spawn(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], {
        stdio: ['ignore', 'pipe', 'inherit'],
      });
      await new Promise<void>((resolve) => child.stdout.once('data', () => resolve()));
      await new Promise((r) => setTimeout(r, 20 + round * 37));
      child.kill('SIGKILL');
      await new Promise((r) => child.once('exit', r));
      const content = await readFile(file, 'utf8');
      expect(content === a || content === b).toBe(true);
      // A killed writer leaves its temporary behind; cleanup removes it.
      await removeStaleTemps(dir);
      expect(await ls(dir)).toEqual(['big.txt']);
    }
  }, 30_000);
});

describe('replaceDirAtomic', () => {
  it('swaps a staged folder into place', async () => {
    const target = path.join(dir, 'run-1');
    await mkdir(target);
    await writeFile(path.join(target, 'old.txt'), 'old');
    const staged = await makeStagingDir(target);
    expect(path.dirname(staged)).toBe(dir);
    await writeFile(path.join(staged, 'new.txt'), 'new');
    await replaceDirAtomic(staged, target);
    expect(await ls(target)).toEqual(['new.txt']);
    expect(await ls(dir)).toEqual(['run-1']);
  });

  it('moves a staged folder in when there is no target yet', async () => {
    const target = path.join(dir, 'run-2');
    const staged = await makeStagingDir(target);
    await writeFile(path.join(staged, 'f'), 'x');
    await replaceDirAtomic(staged, target);
    expect(await readFile(path.join(target, 'f'), 'utf8')).toBe('x');
    expect(await ls(dir)).toEqual(['run-2']);
  });

  it('copes with a stale .old left by an earlier crash', async () => {
    const target = path.join(dir, 'run');
    await mkdir(target);
    await mkdir(`${target}.old`);
    await writeFile(path.join(`${target}.old`, 'stale'), 'x');
    const staged = await makeStagingDir(target);
    await writeFile(path.join(staged, 'new'), 'y');
    await replaceDirAtomic(staged, target);
    expect(await ls(target)).toEqual(['new']);
    expect(await ls(dir)).toEqual(['run']);
  });
});

describe('recoverDir', () => {
  it('restores the target from .old after a crash between the renames', async () => {
    const target = path.join(dir, 'run');
    // The crash state: target renamed away, staged folder not yet moved in.
    await mkdir(`${target}.old`);
    await writeFile(path.join(`${target}.old`, 'metrics.csv'), 'epoch\n1\n');
    const staged = path.join(dir, `.run.tmp-${DEAD_PID}-abc123`);
    await mkdir(staged);
    await writeFile(path.join(staged, 'metrics.csv'), 'half');
    await recoverDir(target);
    expect(await ls(dir)).toEqual(['run']);
    expect(await readFile(path.join(target, 'metrics.csv'), 'utf8')).toBe('epoch\n1\n');
  });

  it('drops .old when the swap completed, and cleans temporaries inside the target', async () => {
    const target = path.join(dir, 'run');
    await mkdir(target);
    await writeFile(path.join(target, 'keep'), 'new');
    await writeFile(path.join(target, `.keep.tmp-${DEAD_PID}-ff`), 'partial');
    await mkdir(`${target}.old`);
    await recoverDir(target);
    expect(await ls(dir)).toEqual(['run']);
    expect(await ls(target)).toEqual(['keep']);
  });

  it('does nothing when there is nothing to recover', async () => {
    await recoverDir(path.join(dir, 'absent'));
    expect(await ls(dir)).toEqual([]);
  });
});

describe('removeStaleTemps', () => {
  it("removes dead processes' temporaries and spares a live one's and other files", async () => {
    await writeFile(path.join(dir, `.a.json.tmp-${DEAD_PID}-0a1b`), '');
    await mkdir(path.join(dir, `.run.tmp-${DEAD_PID}-99`));
    await writeFile(path.join(dir, `.b.json.tmp-${process.pid}-77`), '');
    const live = `.c.json.tmp-${process.ppid}-12`;
    await writeFile(path.join(dir, live), '');
    await writeFile(path.join(dir, 'a.json'), '');
    await writeFile(path.join(dir, '.hidden'), '');
    await removeStaleTemps(dir);
    expect(await ls(dir)).toEqual([live, '.hidden', 'a.json'].sort());
  });

  it('ignores a missing folder', async () => {
    await removeStaleTemps(path.join(dir, 'nope'));
  });
});

describe('appendLineDurable', () => {
  it('creates the file and appends whole lines', async () => {
    const file = path.join(dir, 'metrics.csv');
    await appendLineDurable(file, 'epoch,loss');
    await appendLineDurable(file, '1,0.5\n');
    await appendLineDurable(file, '2,0.25');
    expect(await readFile(file, 'utf8')).toBe('epoch,loss\n1,0.5\n2,0.25\n');
  });

  it('refuses a line with an embedded line break', async () => {
    const file = path.join(dir, 'm.csv');
    await expect(appendLineDurable(file, 'a\nb')).rejects.toThrow(/line break/);
    await expect(appendLineDurable(file, 'a\r')).rejects.toThrow(/line break/);
  });

  it('drops a torn last line before appending', async () => {
    const file = path.join(dir, 'm.csv');
    await writeFile(file, 'epoch,loss\n1,0.5\n2,0.2');
    await appendLineDurable(file, '2,0.25');
    expect(await readFile(file, 'utf8')).toBe('epoch,loss\n1,0.5\n2,0.25\n');
  });
});
