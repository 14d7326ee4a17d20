import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadPlan } from '../src/config/load.js';
import { formatDiagnostic } from '../src/config/source.js';
import { ConfigError, type Diagnostic } from '../src/errors.js';

function problems(yaml: string, sets: string[] = []): Diagnostic[] {
  const dir = mkdtempSync(join(tmpdir(), 'xrun-cfg-'));
  const file = join(dir, 'exp.yaml');
  writeFileSync(file, yaml);
  try {
    loadPlan(file, { sets, cwd: dir });
  } catch (err) {
    if (err instanceof ConfigError) return err.diagnostics;
    throw err;
  }
  return [];
}

const VALID = `name: t
dataset:
  name: mnist
models:
  cnn: { type: cnn }
  lstm: { type: lstm }
sweep:
  model: [cnn, lstm]
`;

describe('config errors point at file:line:col', () => {
  it('a valid file has no problems', () => {
    expect(problems(VALID)).toEqual([]);
  });

  it('misspelt key, wrong type and bad sweep value give one diagnostic each', () => {
    const yaml = `name: t
dataset:
  name: mnist
models:
  cnn: { type: cnn }
  lstm: { type: lstm, hiden: 64 }
training:
  epochs: five
sweep:
  model: [cnn, lstm]
  training.learningRate: [0.001, -1]
`;
    const ds = problems(yaml);
    expect(ds.map((d) => [d.line, d.col])).toEqual([
      [6, 23],
      [8, 11],
      [11, 34],
    ]);
    expect(ds[0]!.message).toContain("unknown key 'hiden'");
    expect(ds[0]!.message).toContain("did you mean 'hidden'");
    expect(ds[1]!.message).toContain('must be an integer');
    expect(ds[2]!.message).toMatch(/learningRate.*must be > 0.*sweep value/);
    // The bad value makes two runs invalid; it is still one message.
    expect(ds[2]!.message).toContain('and 1 more');
    const shown = formatDiagnostic(ds[0]!);
    expect(shown).toContain(':6:23: error:');
    expect(shown).toContain('  lstm: { type: lstm, hiden: 64 }');
    expect(shown.split('\n').pop()).toMatch(/\|\s{23}\^{5}$/);
  });

  it('reports YAML syntax errors with their position', () => {
    const ds = problems('name: t\ndataset: [mnist\nmodels: {}\n');
    expect(ds.length).toBeGreaterThan(0);
    expect(ds[0]!.line).toBeGreaterThan(0);
  });

  it('reports a duplicate key', () => {
    const ds = problems(`${VALID}seed: 1\nseed: 2\n`);
    expect(ds[0]!.message).toMatch(/unique|duplicate/i);
    expect(ds[0]!.line).toBe(10);
  });

  it('a sweep over an undeclared model points at the value', () => {
    const ds = problems(VALID.replace('model: [cnn, lstm]', 'model: [cnn, lstn]'));
    expect(ds).toHaveLength(1);
    expect(ds[0]!.line).toBe(8);
    expect(ds[0]!.message).toContain("did you mean 'lstm'");
  });

  it('several models and no model choice is an error that says what to do', () => {
    const ds = problems(VALID.replace(/sweep:\n.*\n/, ''));
    expect(ds[0]!.message).toContain("choose one with 'model: <name>'");
  });

  it('a missing required key points at its parent', () => {
    const ds = problems('name: t\nmodels:\n  cnn: { type: cnn }\n');
    expect(ds[0]!.message).toContain("missing required key 'dataset'");
  });

  it('--set overrides are validated and blamed on the flag', () => {
    const ds = problems(VALID, ['training.epochs=abc']);
    expect(ds).toHaveLength(1);
    expect(ds[0]!.file).toBe('--set');
    expect(ds[0]!.message).toContain('training.epochs=abc');
    expect(problems(VALID, ['training.epochs=2'])).toEqual([]);
  });

  it('sweeping an output setting is refused', () => {
    const ds = problems(`${VALID}  name: [a, b]\n`);
    expect(ds[0]!.message).toContain("'name' cannot be swept");
  });
});
