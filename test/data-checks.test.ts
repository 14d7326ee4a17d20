/**
 * Data problems stop xrun before anything is written: every dataset file is opened and
 * checked (gzip, IDX header, size, shapes) and subsets are checked against the split
 * sizes, so a bad file is exit 2 with its cause, and no run folder or summary exists.
 */
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { parse as parseYaml, stringify as stringifyYaml } from 'yaml';
import { describe, expect, it } from 'vitest';
import { configHash, type RunConfig } from '../src/config/resolve.js';
import { tempProject, tinyExperiment, xrun } from './helpers/cli.js';

function idx(dims: number[], fill: (i: number) => number): Buffer {
  const count = dims.reduce((a, b) => a * b, 1);
  const buf = Buffer.alloc(4 + 4 * dims.length + count);
  buf[2] = 0x08;
  buf[3] = dims.length;
  dims.forEach((d, i) => buf.writeUInt32BE(d, 4 + 4 * i));
  for (let i = 0; i < count; i++) buf[4 + 4 * dims.length + i] = fill(i);
  return buf;
}

const GOOD = {
  'train-images.gz': gzipSync(idx([40, 6, 6], (i) => (i * 7) % 256)),
  'train-labels': idx([40], (i) => i % 3),
  'test-images': idx([12, 6, 6], (i) => (i * 5) % 256),
  'test-labels': idx([12], (i) => i % 3),
};

function idxProject(files: Record<string, Buffer>): string {
  const dir = tempProject({
    'exp.yaml': `name: data
runtime: { backend: wasm }
dataset:
  name: idx
  train: { images: data/train-images.gz, labels: data/train-labels }
  test: { images: data/test-images, labels: data/test-labels }
models:
  m: { type: rnn, hidden: 4, layers: 1 }
training: { batchSize: 8, epochs: 1 }
`,
  });
  mkdirSync(join(dir, 'data'));
  for (const [name, bytes] of Object.entries(files)) writeFileSync(join(dir, 'data', name), bytes);
  return dir;
}

function expectRefused(dir: string, args: string[], message: RegExp) {
  const r = xrun(args, dir);
  expect(r.code, r.stdout + r.stderr).toBe(2);
  expect(r.stderr).toMatch(message);
  // Nothing written: no output folder at all.
  expect(existsSync(join(dir, 'runs'))).toBe(false);
  return r;
}

describe('data checked before anything is written', () => {
  it('a good idx dataset trains; config.yaml states the class count read from the labels', () => {
    const dir = idxProject(GOOD);
    const r = xrun(['exp.yaml'], dir);
    expect(r.code, r.stderr).toBe(0);
    const run = join(dir, 'runs/data/model=m');
    expect(existsSync(join(run, 'metrics.csv'))).toBe(true);
    const configText = readFileSync(join(run, 'config.yaml'), 'utf8');
    expect(configText).toMatch(/\n  classes: 3\n/);
    const record = JSON.parse(readFileSync(join(run, 'run.json'), 'utf8'));
    expect(record.hash).toBe(configHash(parseYaml(configText) as RunConfig));
    // The run's own config.yaml (classes now explicit) is the same run.
    const own = xrun(['runs/data/model=m/config.yaml'], dir);
    expect(own.stdout).toContain('[model=m] skipped: completed, same config');
    // A run recorded before the class count was written out (hash without it) is still found.
    const config = parseYaml(configText) as RunConfig & { dataset: { classes?: number } };
    delete config.dataset.classes;
    writeFileSync(join(run, 'config.yaml'), stringifyYaml(config));
    writeFileSync(join(run, 'run.json'), JSON.stringify({ ...record, hash: configHash(config) }));
    const again = xrun(['exp.yaml'], dir);
    expect(again.code, again.stderr).toBe(0);
    expect(again.stdout).toContain('[model=m] skipped: completed, same config');
  });

  it('a subset larger than its split', () => {
    const dir = tempProject({ 'exp.yaml': tinyExperiment('sub', 'model: lstm\n') });
    expectRefused(dir, ['exp.yaml', '--set', 'dataset.subset.test=20000'], /dataset\.subset\.test asks for 20000 examples but the test split has only 10000/);
  });

  it('a truncated file', () => {
    const dir = idxProject({ ...GOOD, 'test-images': GOOD['test-images'].subarray(0, 200) });
    expectRefused(dir, ['exp.yaml'], /test-images: truncated: dims \[12, 6, 6\] need 448 bytes, found 200/);
  });

  it('a truncated gzip stream', () => {
    const gz = GOOD['train-images.gz'];
    const dir = idxProject({ ...GOOD, 'train-images.gz': gz.subarray(0, gz.length - 20) });
    expectRefused(dir, ['exp.yaml'], /train-images\.gz: (corrupt gzip stream|truncated)/);
  });

  it('a file named .gz that is not gzip (nor IDX)', () => {
    const dir = idxProject({ ...GOOD, 'train-images.gz': Buffer.from('<html>Not Found</html>\n') });
    expectRefused(dir, ['exp.yaml'], /train-images\.gz: not an IDX file: bad magic number/);
  });

  it('images and labels of different sizes', () => {
    const dir = idxProject({ ...GOOD, 'test-labels': idx([11], (i) => i % 3) });
    expectRefused(dir, ['exp.yaml'], /test split: 12 images in .* but 11 labels in/);
  });

  it('a missing file names the folder relative paths are resolved against', () => {
    const dir = idxProject({ ...GOOD });
    const r = expectRefused(dir, ['exp.yaml', '--set', 'dataset.test.labels=data/nope'], /data\/nope/);
    expect(r.stderr).toContain(`relative paths are resolved against ${dir}`);
  });
});
