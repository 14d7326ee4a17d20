/**
 * A dataset's files opened and checked before any run starts: each file's gzip stream,
 * IDX header and size, the shapes of images and labels (readSplits, shared with the
 * loader), and the subsets asked for against the sizes of the splits. Bad data thus stops
 * xrun with exit 2 before a run folder or summary is written, instead of failing every
 * run on its own.
 * Free of tfjs, like locate.ts, so the check costs only the reading.
 */
import { DataError } from '../errors.js';
import { checkDatasetFiles, locateDataset, type Source } from './locate.js';
import { readSplits } from './raw-split.js';
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
  const { train, test } = await readSplits(source);
  if (source.classes !== undefined) {
    for (const [split, raw] of [['train', train], ['test', test]] as const) {
      if (raw.maxLabel < source.classes) continue;
      const at = raw.labels.data.findIndex((v) => v >= source.classes!);
      throw new DataError(`${source.files[`${split}.labels`]}: label ${raw.labels.data[at]} at index ${at} is not below the class count ${source.classes}`, {
        hint: classesGiven ? 'raise dataset.classes, or leave it out to use the largest label + 1' : source.hintFor(`${split}.labels`),
      });
    }
  }
  // As the loader derives it (datasets.ts): from the full files, at least 2.
  const classes = source.classes ?? Math.max(2, train.maxLabel + 1, test.maxLabel + 1);
  return { train: train.count, test: test.count, height: train.height, width: train.width, classes };
}
