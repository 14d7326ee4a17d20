/**
 * A dataset's files opened and checked before any run starts: each file's gzip stream,
 * IDX header and size (readIdxFile), the shapes of images and labels, and the subsets
 * asked for against the sizes of the splits. Bad data thus stops xrun with exit 2
 * before a run folder or summary is written, instead of failing every run on its own.
 * Free of tfjs, like locate.ts, so the check costs only the reading.
 */
import { DataError } from '../errors.js';
import { readIdxFile, type IdxArray } from './idx.js';
import { checkDatasetFiles, locateDataset, ROLES, type Role, type Source } from './locate.js';
import type { DatasetConfig } from './datasets.js';

export interface DatasetShape {
  train: number;
  test: number;
  height: number;
  width: number;
  /** The class count the runs will use: fixed for the built-in sets, else dataset.classes or the largest label + 1. */
  classes: number;
}

/** Checks the files of each distinct dataset once, and each run's subset against its splits; the shapes found, in order. */
export async function checkDatasets(datasets: DatasetConfig[], baseDir: string): Promise<DatasetShape[]> {
  const found: DatasetShape[] = [];
  const shapes = new Map<string, Promise<DatasetShape>>();
  for (const cfg of datasets) {
    const source = await locateDataset(cfg, baseDir);
    const key = JSON.stringify(source.files);
    // A missing file is named as such before any is read.
    if (!shapes.has(key)) await checkDatasetFiles(cfg, baseDir);
    if (!shapes.has(key)) shapes.set(key, checkFiles(source, cfg.name === 'idx' && cfg.classes !== undefined));
    const shape = await shapes.get(key)!;
    const given = cfg.name === 'idx' ? cfg.classes : undefined;
    found.push({ ...shape, classes: given ?? shape.classes });
    for (const split of ['train', 'test'] as const) {
      const asked = cfg.subset?.[split];
      if (asked !== undefined && asked > shape[split]) {
        throw new DataError(`dataset.subset.${split} asks for ${asked} examples but the ${split} split has only ${shape[split]} (${source.files[`${split}.images`]})`, {
          hint: `lower dataset.subset.${split} to at most ${shape[split]}, or remove it to use the whole split`,
        });
      }
    }
  }
  return found;
}

async function checkFiles(source: Source, classesGiven: boolean): Promise<DatasetShape> {
  const read = async (role: Role): Promise<IdxArray> => {
    try {
      return await readIdxFile(source.files[role]);
    } catch (err) {
      if (err instanceof DataError) throw new DataError(err.message, { hint: source.hintFor(role), cause: err });
      throw err;
    }
  };
  const arrays = {} as Record<Role, IdxArray>;
  for (const role of ROLES) arrays[role] = await read(role);
  const counts = { train: 0, test: 0 };
  let size: [number, number] | undefined;
  let maxLabel = 0;
  for (const split of ['train', 'test'] as const) {
    const images = arrays[`${split}.images`];
    const labels = arrays[`${split}.labels`];
    const imageFile = source.files[`${split}.images`];
    const labelFile = source.files[`${split}.labels`];
    if (images.dims.length !== 3) {
      throw new DataError(`${imageFile}: expected 3-D images [N, H, W], found dims [${images.dims.join(', ')}]`, {
        hint: source.hintFor(`${split}.images`) + (images.dims.length === 1 ? ' (this looks like a label file)' : ''),
      });
    }
    if (labels.dims.length !== 1) {
      throw new DataError(`${labelFile}: expected 1-D labels [N], found dims [${labels.dims.join(', ')}]`, {
        hint: source.hintFor(`${split}.labels`) + (labels.dims.length === 3 ? ' (this looks like an image file)' : ''),
      });
    }
    const [count, height, width] = images.dims as [number, number, number];
    if (labels.dims[0] !== count) {
      throw new DataError(`${split} split: ${count} images in ${imageFile} but ${labels.dims[0]} labels in ${labelFile}`, {
        hint: `the ${split} images and labels must come from the same dataset and hold the same number of examples`,
      });
    }
    if (count === 0 || height === 0 || width === 0) {
      throw new DataError(`${imageFile}: empty ${split} split (dims [${images.dims.join(', ')}])`, { hint: source.hintFor(`${split}.images`) });
    }
    if (size && (size[0] !== height || size[1] !== width)) {
      throw new DataError(`train images are ${size[0]}x${size[1]} but test images are ${height}x${width}`, {
        hint: `train and test must come from the same dataset (${source.files['train.images']}, ${imageFile})`,
      });
    }
    size = [height, width];
    counts[split] = count;
    for (const v of labels.data) if (v > maxLabel) maxLabel = v;
    if (source.classes !== undefined) {
      const at = labels.data.findIndex((v) => v >= source.classes!);
      if (at >= 0) {
        throw new DataError(`${labelFile}: label ${labels.data[at]} at index ${at} is not below the class count ${source.classes}`, {
          hint: classesGiven ? 'raise dataset.classes, or leave it out to use the largest label + 1' : source.hintFor(`${split}.labels`),
        });
      }
    }
  }
  // As the loader derives it (datasets.ts): from the full files, at least 2.
  return { ...counts, height: size![0], width: size![1], classes: source.classes ?? Math.max(2, maxLabel + 1) };
}
