import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import type { TopLevelSpec } from 'vega-lite';
import { writeFileAtomic } from '../store/atomic.js';

/**
 * Writes `<name>.vl.json` (the spec, data inline), `<name>.svg` and `<name>.png` into `dir`.
 * The renderer is loaded on first use: a process that only writes specs never pays for it.
 */
export async function writePlot(dir: string, name: string, spec: TopLevelSpec): Promise<void> {
  const { renderSpec } = await import('./render.js');
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
