import { existsSync, statSync } from 'node:fs';
import { loadPlan } from '../config/load.js';

/** An experiment file stands for its output folder, so `xrun report exp.yaml` works too. */
export function experimentFolders(targets: string[]): string[] {
  return targets.map((t) => (/\.ya?ml$/i.test(t) && existsSync(t) && statSync(t).isFile() ? loadPlan(t).outputDir : t));
}
