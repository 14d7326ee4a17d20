/**
 * A dataset's four IDX files read and checked as splits: 3-D images, 1-D labels, equal
 * counts, non-empty, train and test of one image size. Shared by the loader and by the
 * check made before any run starts, so both refuse the same files with the same words.
 * Free of tfjs.
 */
import { DataError } from '../errors.js';
import { readIdxFile, type IdxArray } from './idx.js';
import { ROLES, type Role, type Source } from './locate.js';

export async function readSplits(source: Source): Promise<{ train: RawSplit; test: RawSplit }> {
  const [trainImages, trainLabels, testImages, testLabels] = await Promise.all(ROLES.map((role) => readRole(source, role)));
  const train = checkSplit(source, 'train', trainImages!, trainLabels!);
  const test = checkSplit(source, 'test', testImages!, testLabels!);
  if (train.height !== test.height || train.width !== test.width) {
    throw new DataError(
      `train images are ${train.height}x${train.width} but test images are ${test.height}x${test.width}`,
      { hint: `train and test must come from the same dataset (${source.files['train.images']}, ${source.files['test.images']})` },
    );
  }
  return { train, test };
}

async function readRole(source: Source, role: Role): Promise<IdxArray> {
  try {
    return await readIdxFile(source.files[role]);
  } catch (err) {
    // The reader knows the file but not which config field named it; replace its
    // generic hint with one the user can act on.
    if (err instanceof DataError) throw new DataError(err.message, { hint: source.hintFor(role), cause: err });
    throw err;
  }
}

export interface RawSplit {
  images: IdxArray;
  labels: IdxArray;
  count: number;
  height: number;
  width: number;
  maxLabel: number;
}

function checkSplit(source: Source, split: 'train' | 'test', images: IdxArray, labels: IdxArray): RawSplit {
  const imgFile = source.files[`${split}.images`];
  const lblFile = source.files[`${split}.labels`];
  if (images.dims.length !== 3) {
    throw new DataError(`${imgFile}: expected 3-D images [N, H, W], found dims [${images.dims.join(', ')}]`, {
      hint: source.hintFor(`${split}.images`) + (images.dims.length === 1 ? ' (this looks like a label file)' : ''),
    });
  }
  if (labels.dims.length !== 1) {
    throw new DataError(`${lblFile}: expected 1-D labels [N], found dims [${labels.dims.join(', ')}]`, {
      hint: source.hintFor(`${split}.labels`) + (labels.dims.length === 3 ? ' (this looks like an image file)' : ''),
    });
  }
  const [count, height, width] = images.dims as [number, number, number];
  if (labels.dims[0] !== count) {
    throw new DataError(
      `${split} split: ${count} images in ${imgFile} but ${labels.dims[0]} labels in ${lblFile}`,
      { hint: `the ${split} images and labels must come from the same dataset and hold the same number of examples` },
    );
  }
  if (count === 0 || height === 0 || width === 0) {
    throw new DataError(`${imgFile}: empty ${split} split (dims [${images.dims.join(', ')}])`, {
      hint: source.hintFor(`${split}.images`),
    });
  }
  let maxLabel = 0;
  for (const v of labels.data) if (v > maxLabel) maxLabel = v;
  return { images, labels, count, height, width, maxLabel };
}
