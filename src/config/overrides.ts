/** `--set path=value` on the command line: edits the parsed file before validation. */
import { parse as parseYaml } from 'yaml';
import { ConfigError } from '../errors.js';
import type { SourceFile } from './source.js';

export interface Override {
  /** The argument as typed, for error messages. */
  arg: string;
  path: string[];
  value: unknown;
}

export function parseOverride(arg: string): Override {
  const eq = arg.indexOf('=');
  const key = eq > 0 ? arg.slice(0, eq).trim() : '';
  if (!key || key.split('.').some((s) => s === '')) {
    throw new ConfigError([{ file: '--set', line: 0, col: 0, message: `'${arg}' is not path=value (e.g. --set training.epochs=2)` }]);
  }
  let value: unknown;
  try {
    // Values are YAML, as in the file: 2 is a number, [cnn, lstm] a list, "2" a string.
    value = parseYaml(arg.slice(eq + 1));
  } catch (err) {
    throw new ConfigError([{ file: '--set', line: 0, col: 0, message: `${arg}: ${(err as Error).message.split('\n')[0]}` }]);
  }
  return { arg, path: splitPath(key), value };
}

/**
 * Dotted paths address nested keys; a sweep axis name (which itself contains dots) is
 * addressed as `sweep.<axis>`, e.g. `--set sweep.models.*.hidden=[32,64]`.
 */
export function splitPath(key: string): string[] {
  const parts = key.split('.');
  return parts[0] === 'sweep' && parts.length > 2 ? ['sweep', parts.slice(1).join('.')] : parts;
}

export function applyOverrides(source: SourceFile, overrides: Override[]): void {
  for (const o of overrides) source.doc.setIn(o.path, source.doc.createNode(o.value));
}

/** The override that set this path (or an ancestor of it), if any. */
export function overrideFor(overrides: Override[], path: (string | number)[]): Override | undefined {
  return overrides.find((o) => o.path.every((seg, i) => String(path[i]) === seg));
}
