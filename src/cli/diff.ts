import { existsSync, readFileSync, statSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { parse as parseYaml } from 'yaml';
import { withModelInlined } from '../config/resolve.js';
import { UsageError } from '../errors.js';
import { DEFAULT_DIFF_METRICS, DIFF_FORMATS, diffConfigs, diffMetrics, formatDiff } from '../report/diff.js';
import { parseMetricsCsv } from '../store/run-dir.js';
import type { MetricsRow } from '../store/metrics-row.js';
import { list, oneOf, parse } from './args.js';
import { DIFF_HELP } from './help.js';

interface Side {
  label: string;
  config: unknown;
  rows: MetricsRow[];
}

export async function diffCommand(argv: string[]): Promise<number> {
  const { values, positionals } = parse(argv, { format: { type: 'string' }, metrics: { type: 'string' } }, DIFF_HELP);
  if (values.help) {
    console.log(DIFF_HELP);
    return 0;
  }
  if (positionals.length !== 2) throw new UsageError('diff takes two runs', { hint: DIFF_HELP });
  const format = oneOf(values.format, '--format', DIFF_FORMATS, 'table');
  const [a, b] = positionals.map(readSide) as [Side, Side];
  const metrics = values.metrics ? list(values.metrics) : [...DEFAULT_DIFF_METRICS];
  const out = formatDiff(
    { a: { label: a.label }, b: { label: b.label }, config: diffConfigs(a.config, b.config), metrics: diffMetrics(a.rows, b.rows, metrics) },
    format,
  );
  process.stdout.write(out.endsWith('\n') ? out : `${out}\n`);
  return 0;
}

/** A run folder, or a metrics CSV (its config is taken from a config.yaml beside it, if any). */
function readSide(target: string): Side {
  if (!existsSync(target)) throw new UsageError(`${target}: no such run folder or metrics file`);
  const isDir = statSync(target).isDirectory();
  const metricsFile = isDir ? join(target, 'metrics.csv') : target;
  const configFile = join(isDir ? target : dirname(target), 'config.yaml');
  if (!existsSync(metricsFile)) throw new UsageError(`${target} has no metrics.csv`, { hint: 'pass a run folder (runs/<experiment>/<run-id>) or a metrics CSV' });
  const rows = parseMetricsCsv(readFileSync(metricsFile, 'utf8'), metricsFile);
  const config = existsSync(configFile) ? withModelInlined(parseYaml(readFileSync(configFile, 'utf8'))) : {};
  return { label: isDir ? basename(target) : target, config, rows };
}
