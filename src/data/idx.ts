/**
 * Reader for the IDX format (http://yann.lecun.com/exdb/mnist/): a 4-byte magic
 * (0, 0, type, number of dims), one big-endian uint32 per dim, then the values.
 * Only unsigned bytes are supported, which is what MNIST-like image and label
 * files use.
 */
import { readFile } from 'node:fs/promises';
import { gunzip } from 'node:zlib';
import { promisify } from 'node:util';
import { DataError } from '../errors.js';

export interface IdxArray {
  dims: number[];
  /** Row-major values; a view into the file's buffer, not a copy. */
  data: Uint8Array;
}

const UBYTE = 0x08;
const TYPE_NAMES: Record<number, string> = {
  0x08: 'unsigned byte',
  0x09: 'signed byte',
  0x0b: 'int16',
  0x0c: 'int32',
  0x0d: 'float32',
  0x0e: 'float64',
};

const HINT = 're-download the file, or point the dataset config at an unsigned-byte IDX file';

const gunzipAsync = promisify(gunzip);

export function parseIdx(buf: Uint8Array, file: string): IdxArray {
  const fail = (what: string): never => {
    throw new DataError(`${file}: ${what}`, { hint: HINT });
  };
  if (buf.length < 4) fail(`not an IDX file: only ${buf.length} byte(s), shorter than the 4-byte header`);
  if (buf[0] === 0x1f && buf[1] === 0x8b) fail('gzip-compressed data passed where raw IDX was expected');
  if (buf[0] !== 0 || buf[1] !== 0) {
    fail(`not an IDX file: bad magic number 0x${hex(buf, 0, 4)} (expected 0x0000 followed by type and dims bytes)`);
  }
  const type = buf[2]!;
  if (type !== UBYTE) {
    const name = TYPE_NAMES[type];
    fail(
      name
        ? `IDX element type ${name} (0x${type.toString(16).padStart(2, '0')}) is not supported; only unsigned byte (0x08) is`
        : `not an IDX file: unknown element type byte 0x${type.toString(16).padStart(2, '0')}`,
    );
  }
  const ndims = buf[3]!;
  if (ndims === 0) fail('IDX header declares 0 dimensions');
  const headerBytes = 4 + 4 * ndims;
  if (buf.length < headerBytes) {
    fail(`truncated header: ${ndims} dims need ${headerBytes} bytes, found ${buf.length}`);
  }
  const view = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
  const dims: number[] = [];
  let count = 1;
  for (let i = 0; i < ndims; i++) {
    const d = view.getUint32(4 + 4 * i, false);
    dims.push(d);
    count *= d;
  }
  // Doubles are exact up to 2^53, far past anything that fits in memory, so the
  // comparison below is sound even for absurd headers from a corrupt file.
  const expected = headerBytes + count;
  if (buf.length < expected) {
    fail(`truncated: dims [${dims.join(', ')}] need ${expected} bytes, found ${buf.length}`);
  }
  if (buf.length > expected) {
    fail(`${buf.length - expected} unexpected trailing byte(s): dims [${dims.join(', ')}] need ${expected} bytes, found ${buf.length}`);
  }
  return { dims, data: buf.subarray(headerBytes) };
}

export async function readIdxFile(file: string): Promise<IdxArray> {
  let buf: Uint8Array;
  try {
    buf = await readFile(file);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    const why = code === 'ENOENT' ? 'file not found' : code === 'EISDIR' ? 'is a folder, not a file' : `cannot read (${code ?? String(err)})`;
    throw new DataError(`${file}: ${why}`, { hint: 'check the dataset path in the experiment file', cause: err });
  }
  // Detected by content rather than extension: people gunzip files and keep the
  // name, or download uncompressed copies that carry a `.gz` suffix.
  if (buf.length >= 2 && buf[0] === 0x1f && buf[1] === 0x8b) {
    try {
      buf = await gunzipAsync(buf);
    } catch (err) {
      throw new DataError(`${file}: corrupt gzip stream (${(err as Error).message})`, {
        hint: 're-download the file (it is probably truncated or damaged)',
        cause: err,
      });
    }
  }
  return parseIdx(buf, file);
}

function hex(buf: Uint8Array, start: number, end: number): string {
  return Array.from(buf.subarray(start, end), (b) => b.toString(16).padStart(2, '0')).join('');
}
