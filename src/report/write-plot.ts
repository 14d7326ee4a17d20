import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import type { TopLevelSpec } from 'vega-lite';
import { writeFileAtomic } from '../store/atomic.js';
import { renderSpec } from './plots.js';

/** Writes `<name>.vl.json` (the spec, data inline), `<name>.svg` and `<name>.png` into `dir`. */
export async function writePlot(dir: string, name: string, spec: TopLevelSpec): Promise<void> {
  const { svg, png } = await renderSpec(spec);
  await writePlotSpec(dir, name, spec);
  await writeFileAtomic(join(dir, `${name}.svg`), svg);
  await writeFileAtomic(join(dir, `${name}.png`), png);
}

/** Only `<name>.vl.json`: cheap enough for every epoch, while rendering waits. */
export async function writePlotSpec(dir: string, name: string, spec: TopLevelSpec): Promise<void> {
  await mkdir(dir, { recursive: true });
  await writeFileAtomic(join(dir, `${name}.vl.json`), JSON.stringify(spec, null, 2) + '\n');
}
