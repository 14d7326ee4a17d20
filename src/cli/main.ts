/**
 * The CLI: dispatch to a command, and the one place where errors become exit codes.
 * Bad input of any kind (XrunError) prints a clear message and exits 2; anything else
 * is a bug and exits 1 with its stack.
 */
import { readFileSync } from 'node:fs';
import { ConfigError, XrunError } from '../errors.js';
import { formatDiagnostic } from '../config/source.js';
import { MAIN_HELP } from './help.js';

type Command = (argv: string[]) => Promise<number>;

// Loaded on demand: plotting and progress libraries take most of a second to import,
// which `--help`, `validate` and `plan` should not pay.
const COMMANDS: Record<string, () => Promise<Command>> = {
  run: async () => (await import('./run.js')).runCommand,
  validate: async () => (await import('./inspect.js')).validateCommand,
  plan: async () => (await import('./inspect.js')).planCommand,
  status: async () => (await import('./inspect.js')).statusCommand,
  diff: async () => (await import('./diff.js')).diffCommand,
  compare: async () => (await import('./compare.js')).compareCommand,
  report: async () => (await import('./report.js')).reportCommand,
  doctor: async () => (await import('./doctor.js')).doctorCommand,
  worker: async () => (await import('./worker.js')).workerCommand,
  'run-one': async () => (await import('./run-one.js')).runOneCommand,
};

export async function main(argv: string[]): Promise<number> {
  const [first, ...rest] = argv;
  try {
    if (first === undefined || first === '--help' || first === '-h' || first === 'help') {
      console.log(MAIN_HELP);
      return first === undefined ? 2 : 0;
    }
    if (first === '--version' || first === '-v') {
      console.log(version());
      return 0;
    }
    const load = COMMANDS[first];
    // `xrun file.yaml` is `xrun run file.yaml`.
    return load ? await (await load())(rest) : await (await COMMANDS.run!())(argv);
  } catch (err) {
    return report(err);
  }
}

export function report(err: unknown): number {
  const color = Boolean(process.stderr.isTTY);
  if (err instanceof ConfigError) {
    for (const d of err.diagnostics) console.error(formatDiagnostic(d, color));
    console.error(`\n${err.diagnostics.length} problem(s); nothing was run or written.${err.hint ? ` ${err.hint}` : ''}`);
    return err.exitCode;
  }
  if (err instanceof XrunError) {
    console.error(`xrun: ${err.message}`);
    if (err.hint) console.error(`  ${err.hint.split('\n').join('\n  ')}`);
    return err.exitCode;
  }
  console.error('xrun: internal error (please report it with the command you ran):');
  console.error(err instanceof Error ? (err.stack ?? err.message) : String(err));
  return 1;
}

function version(): string {
  const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string };
  return `xrun ${pkg.version}`;
}
