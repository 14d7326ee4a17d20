import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';

export const XRUN = resolve('bin/xrun.js');

export interface CliResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Runs the built CLI as a user would (`npm test` builds dist/ first). */
export function xrun(args: string[], cwd: string, env: Record<string, string> = {}): CliResult {
  const r = spawnSync(process.execPath, [XRUN, ...args], { cwd, encoding: 'utf8', env: { ...process.env, CI: '1', ...env }, timeout: 300_000 });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

/** Starts the CLI and resolves once a line of its output matches, with the live process. */
export function xrunUntil(args: string[], cwd: string, pattern: RegExp, env: Record<string, string> = {}) {
  const child = spawn(process.execPath, [XRUN, ...args], { cwd, env: { ...process.env, CI: '1', ...env } });
  let out = '';
  const matched = new Promise<void>((resolveMatch, reject) => {
    child.stdout.on('data', (chunk: Buffer) => {
      out += chunk.toString();
      if (pattern.test(out)) resolveMatch();
    });
    child.on('exit', (code) => reject(new Error(`xrun exited (${code}) before ${pattern}:\n${out}`)));
  });
  const exited = new Promise<number | null>((r) => child.on('exit', (code, signal) => r(code ?? (signal ? -1 : null))));
  return { child, matched, exited, output: () => out };
}

export function tempProject(files: Record<string, string>): string {
  const dir = mkdtempSync(join(tmpdir(), 'xrun-cli-'));
  for (const [name, text] of Object.entries(files)) writeFileSync(join(dir, name), text);
  return dir;
}

/** The two small models of `tinyExperiment`, for runs that sweep `model`. */
export const TINY_MODELS = `
  cnn: { type: cnn, filters: [4, 8], dense: 16, dropout: 0.2 }
  lstm: { type: lstm, hidden: 8, layers: 1 }`;

/**
 * A tiny but real experiment: MNIST images, small models, a couple of epochs. `extra`
 * adds keys such as `sweep:`; `models` and `training` replace those sections' bodies.
 */
export function tinyExperiment(
  name: string,
  extra = '',
  { models = TINY_MODELS, training = 'batchSize: 32, epochs: 2, learningRate: 0.005' } = {},
): string {
  return `name: ${name}
seed: 3
runtime: { backend: wasm }
dataset:
  name: mnist
  subset: { train: 192, test: 96 }
models:${models}
training: { ${training} }
${extra}`;
}
