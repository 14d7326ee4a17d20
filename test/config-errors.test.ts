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
    loadPlan(file, { sets, root: dir });
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

describe('every problem in one pass', () => {
  it('base file, sweep axes and expanded cells together, in line order', () => {
    const ds = problems(`name: t
dataset:
  name: mnist
model: lstx
models:
  lstm: { type: lstm, hiden: 64 }
  cnn: { type: cnn, filters: 3 }
training:
  epoch: 3
  batchSize: big
sweep:
  training.learningRate: [0.001, -1]
  models.*.hidden: [0, 8]
  seed: 5
`);
    expect(ds.map((d) => d.line)).toEqual([4, 6, 7, 9, 10, 12, 14]);
    expect(ds[0]!.message).toContain("model 'lstx' is not declared");
    expect(ds[3]!.message).toContain("unknown key 'epoch'");
    // The broken `seed` axis does not hide the bad value of another axis.
    expect(ds[5]!.message).toMatch(/learningRate: must be > 0, got -1 \(sweep value/);
    expect(ds[6]!.message).toContain('sweep.seed: must be a list');
  });

  it('a scalar sweep value does not hide the rest of the file', () => {
    const ds = problems(`${VALID.replace('model: [cnn, lstm]', 'model: cnn')}  models.*.dropout: [0.5, 2]\ntraining: { epochs: 0 }\n`);
    expect(ds.map((d) => d.message)).toEqual([
      expect.stringContaining('sweep.model: must be a list'),
      expect.stringMatching(/dropout: must be < 1, got 2 \(sweep value/),
      expect.stringContaining('training.epochs: must be >= 1'),
    ]);
  });

  it('a sweep path naming an undeclared model is an error, not a silently dropped axis', () => {
    const ds = problems(`name: t\ndataset: { name: mnist }\nmodels:\n  lstm: { type: lstm }\nsweep:\n  models.lstn.hidden: [32, 64]\n`);
    expect(ds).toHaveLength(1);
    expect([ds[0]!.line, ds[0]!.col]).toEqual([6, 3]);
    expect(ds[0]!.message).toContain("names model 'lstn', which is not declared under models; did you mean 'lstm'?");
    expect(ds[0]!.message).toContain("models.*.hidden");
    expect(problems(`name: t\ndataset: { name: mnist }\nmodels:\n  lstm: { type: lstm }\nsweep:\n  models.*.hidden: [32, 64]\n`)).toEqual([]);
  });

  it('non-finite numbers (.inf, .nan, 1e309) are positioned errors, also from --set', () => {
    const ds = problems(`${VALID}training:\n  epochs: 1e309\n  learningRate: .inf\nseed: .nan\n`);
    expect(ds.map((d) => [d.line, d.col])).toEqual([
      [10, 11],
      [11, 17],
      [12, 7],
    ]);
    for (const d of ds) expect(d.message).toContain('must be a finite number');
    const fromFlag = problems(VALID, ['training.learningRate=.inf']);
    expect(fromFlag).toHaveLength(1);
    expect(fromFlag[0]!.file).toBe('--set');
  });

  it('an alias bomb is a positioned error, not a crash', () => {
    const rows = ['a: &a [x, x, x, x, x, x, x, x, x, x]'];
    for (const [i, name] of ['b', 'c', 'd', 'e', 'f', 'g'].entries()) {
      const prev = 'abcdef'[i]!;
      rows.push(`${name}: &${name} [${Array(10).fill(`*${prev}`).join(', ')}]`);
    }
    const ds = problems(`${VALID}${rows.join('\n')}\n`);
    expect(ds).toHaveLength(1);
    expect(ds[0]!.line).toBe(10);
    expect(ds[0]!.message).toContain('aliases');
  });
});
