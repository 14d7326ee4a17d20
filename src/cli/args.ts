/** Command-line parsing on node's own parseArgs: flags, repeated --set, and per-command help. */
import { parseArgs, type ParseArgsConfig } from 'node:util';
import { UsageError } from '../errors.js';

export type Options = NonNullable<ParseArgsConfig['options']>;

type Value<T> = T extends { type: 'boolean' } ? boolean : string;
export type Values<O> = { [K in keyof O]?: O[K] extends { multiple: true } ? Value<O[K]>[] : Value<O[K]> } & { help?: boolean };

export function parse<const O extends Options>(argv: string[], options: O, usage: string): { values: Values<O>; positionals: string[] } {
  const config = {
    args: argv,
    options: { help: { type: 'boolean', short: 'h' }, ...options } as const,
    allowPositionals: true,
    strict: true,
  } as const;
  try {
    const { values, positionals } = parseArgs(config);
    return { values: values as Values<O>, positionals };
  } catch (err) {
    // node's own text for an unknown option goes on about positionals; the first sentence says it.
    const message = (err as Error).message;
    const unknown = (err as NodeJS.ErrnoException).code === 'ERR_PARSE_ARGS_UNKNOWN_OPTION';
    throw new UsageError(unknown ? message.split('. ')[0]!.replace(/\.$/, '') : message, { hint: usage });
  }
}

export function positiveInt(value: string | undefined, flag: string, fallback: number): number {
  if (value === undefined) return fallback;
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1) throw new UsageError(`${flag} must be a whole number >= 1, got '${value}'`);
  return n;
}

export function oneOf<T extends string>(value: string | undefined, flag: string, allowed: readonly T[], fallback: T): T {
  if (value === undefined) return fallback;
  if (!allowed.includes(value as T)) throw new UsageError(`${flag} must be one of ${allowed.join(', ')}, got '${value}'`);
  return value as T;
}

export function list(value: string | string[] | undefined): string[] {
  if (value === undefined) return [];
  return (Array.isArray(value) ? value : [value]).flatMap((v) => v.split(',')).map((v) => v.trim()).filter(Boolean);
}
