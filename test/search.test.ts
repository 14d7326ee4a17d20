/**
 * Search strategies (src/grid/): paired axes, random search, repeats, and their product
 * with the sweep grid; then the same through loadPlan, with positioned errors.
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadPlan } from '../src/config/load.js';
import { ConfigError, type Diagnostic } from '../src/errors.js';
import { expandGrid } from '../src/grid/expand.js';
import { draw, RandomSearch } from '../src/grid/random.js';
import { Rng } from '../src/util/random.js';

const models = { lstm: { type: 'lstm' }, gru: { type: 'gru' } };

function writeExperiment(yaml: string): { dir: string; file: string } {
  const dir = mkdtempSync(join(tmpdir(), 'xrun-search-'));
  const file = join(dir, 'exp.yaml');
  writeFileSync(file, yaml);
  return { dir, file };
}

function problems(yaml: string): Diagnostic[] {
  const { dir, file } = writeExperiment(yaml);
  try {
    loadPlan(file, { cwd: dir });
  } catch (err) {
    if (err instanceof ConfigError) return err.diagnostics;
    throw err;
  }
  return [];
}

const RANDOM = (trials: number, repeats = 2) => `name: rs
seed: 7
dataset: { name: mnist }
models:
  gru: { type: gru, layers: 1 }
search:
  random:
    trials: ${trials}
    space:
      training.learningRate: { loguniform: [1.0e-4, 1.0e-2] }
      models.*.hidden: { choice: [64, 128, 256] }
  repeats: ${repeats}
`;

describe('paired axes', () => {
  it('three values on each of two axes give 3 runs, value i with value i', () => {
    const g = expandGrid({
      name: 'x',
      models: { lstm: models.lstm },
      search: { paired: { 'models.*.hidden': [64, 128, 256], 'training.learningRate': [0.003, 0.001, 0.0005] } },
    });
    expect(g.cells.map((c) => c.id)).toEqual([
      'hidden=64,learningRate=0.003',
      'hidden=128,learningRate=0.001',
      'hidden=256,learningRate=0.0005',
    ]);
    expect(g.cells[1]!.config).toEqual({ name: 'x', model: 'lstm', models: { lstm: { type: 'lstm', hidden: 128 } }, training: { learningRate: 0.001 } });
  });

  it('composes with the sweep grid as a product', () => {
    const g = expandGrid({
      name: 'x',
      models,
      sweep: { model: ['lstm', 'gru'] },
      search: { paired: { 'models.*.hidden': [64, 128, 256], 'training.learningRate': [0.003, 0.001, 0.0005] } },
    });
    expect(g.cells).toHaveLength(6);
    expect(g.cells[5]!.id).toBe('model=gru,hidden=256,learningRate=0.0005');
    expect(g.cells[5]!.config.models).toEqual({ gru: { type: 'gru', hidden: 256 } });
  });

  it('lists of different lengths are an error at the odd list', () => {
    const found = problems(`name: p
dataset: { name: mnist }
models: { lstm: { type: lstm } }
search:
  paired:
    models.*.hidden: [64, 128, 256]
    training.learningRate: [0.003, 0.001]
`);
    expect(found).toHaveLength(1);
    expect(found[0]).toMatchObject({ line: 7, col: 28 });
    expect(found[0]!.message).toContain("'training.learningRate' has 2 value(s) but 'models.*.hidden' has 3");
  });
});

describe('random search', () => {
  it('draws the same trials every time, and raising trials keeps the ones drawn', () => {
    const space = { 'training.learningRate': { loguniform: [1e-4, 1e-2] as [number, number] }, 'models.*.hidden': { choice: [64, 128, 256] } };
    const eight = new RandomSearch({ trials: 8, seed: 1, space }, 42).points();
    const again = new RandomSearch({ trials: 8, seed: 1, space }, 42).points();
    const ten = new RandomSearch({ trials: 10, seed: 1, space }, 42).points();
    expect(again).toEqual(eight);
    expect(ten.slice(0, 8)).toEqual(eight);
    expect(ten).toHaveLength(10);
    // Another seed draws other values.
    const other = new RandomSearch({ trials: 8, seed: 2, space }, 42).points();
    expect(other.map((p) => p[1]!.value)).not.toEqual(eight.map((p) => p[1]!.value));
    // Adding a parameter leaves the draws of the others alone.
    const wider = new RandomSearch({ trials: 8, seed: 1, space: { ...space, 'training.batchSize': { int: [16, 128] } } }, 42).points();
    expect(wider.map((p) => p.slice(0, 3))).toEqual(eight);
  });

  it('keeps every draw inside its range, rounded to 3 significant digits', () => {
    const n = 400;
    const values = (dist: Parameters<typeof draw>[0]) => Array.from({ length: n }, (_, i) => draw(dist, new Rng(1000 + i)) as number);
    const log = values({ loguniform: [1e-4, 1e-2] });
    expect(Math.min(...log)).toBeGreaterThanOrEqual(1e-4);
    expect(Math.max(...log)).toBeLessThanOrEqual(1e-2);
    for (const v of log) expect(Number(v.toPrecision(3))).toBe(v);
    // Log-uniform: as many draws below the geometric mean (1e-3) as above it.
    const below = log.filter((v) => v < 1e-3).length / n;
    expect(below).toBeGreaterThan(0.4);
    expect(below).toBeLessThan(0.6);
    const uni = values({ uniform: [2, 4] });
    expect(uni.filter((v) => v < 3).length / n).toBeGreaterThan(0.4);
    expect(uni.every((v) => v >= 2 && v <= 4)).toBe(true);
    const ints = values({ int: [1, 3] });
    expect(new Set(ints)).toEqual(new Set([1, 2, 3]));
    const logints = values({ logint: [16, 256] });
    expect(logints.every((v) => Number.isInteger(v) && v >= 16 && v <= 256)).toBe(true);
    expect(logints.filter((v) => v < 64).length / n).toBeGreaterThan(0.4);
    const picks = Array.from({ length: 60 }, (_, i) => draw({ choice: ['a', 'b', 'c'] }, new Rng(i)));
    expect(new Set(picks)).toEqual(new Set(['a', 'b', 'c']));
  });

  it('8 trials with 2 seeds each plan 16 runs; 10 trials add exactly 4 and keep the 16 (same ids, same hashes)', () => {
    const { dir, file } = writeExperiment(RANDOM(8));
    const eight = loadPlan(file, { cwd: dir });
    expect(eight.runs).toHaveLength(16);
    expect(eight.runs[0]!.id).toMatch(/^trial=1,learningRate=[0-9.e-]+,hidden=(64|128|256),seed=7$/);
    expect(eight.runs[1]!.id).toMatch(/^trial=1,.*,seed=8$/);
    // Each trial's two runs differ only in the seed.
    expect(eight.runs[0]!.config.training.learningRate).toBe(eight.runs[1]!.config.training.learningRate);
    expect(new Set(eight.runs.map((r) => r.hash)).size).toBe(16);
    const ten = loadPlan(file, { cwd: dir, sets: ['search.random.trials=10'] });
    expect(ten.runs).toHaveLength(20);
    const before = new Map(eight.runs.map((r) => [r.id, r.hash]));
    const added = ten.runs.filter((r) => !before.has(r.id));
    expect(added.map((r) => r.id.split(',')[0])).toEqual(['trial=9', 'trial=9', 'trial=10', 'trial=10']);
    for (const r of ten.runs.filter((x) => before.has(x.id))) expect(r.hash).toBe(before.get(r.id));
  });

  it('bad ranges, unsearchable keys and an axis in two searches are reported at their place', () => {
    const found = problems(`name: bad
dataset: { name: mnist }
models: { gru: { type: gru } }
sweep:
  seed: [1, 2]
search:
  random:
    trials: 2
    space:
      training.batchSize: { int: [64, 8] }
      training.learningRate: { loguniform: [0, 0.1] }
      output: { choice: [a, b] }
      models.*.layers: { normal: [1, 2] }
  repeats: 2
`);
    const at = found.map((d) => `${d.line}:${d.col} ${d.message}`);
    expect(at).toEqual(
      expect.arrayContaining([
        expect.stringMatching(/^10:34 .*low <= high, got \[64, 8\]/),
        expect.stringMatching(/^11:44 .*log scale needs low > 0/),
        expect.stringMatching(/^12:7 'output' cannot be searched/),
        expect.stringMatching(/^13:24 .*must be one of: \{choice\}/),
        expect.stringMatching(/^14:3 search\.repeats sets the seed .*sweep already varies 'seed'/),
      ]),
    );
    expect(found).toHaveLength(5);
  });

  it('a drawn value that breaks a run is reported at its distribution, with the runs it breaks', () => {
    const found = problems(`name: bad
dataset: { name: mnist }
models: { cnn: { type: cnn } }
search:
  random:
    trials: 3
    space:
      models.*.dropout: { uniform: [1, 2] }
`);
    // One line per drawn value, each naming the run it breaks.
    expect(found).toHaveLength(3);
    found.forEach((d, i) => {
      expect(d).toMatchObject({ line: 8, col: 36 });
      expect(d.message).toMatch(new RegExp(`dropout: must be < 1.*\\(search value models\\.\\*\\.dropout=1\\.\\d+\\); in run trial=${i + 1},dropout=1\\.\\d+$`));
    });
  });
});

describe('repeats', () => {
  it("trains each configuration with the experiment's seed and the next ones; the first repeat is the run without repeats", () => {
    const { dir, file } = writeExperiment(`name: r
seed: 5
dataset: { name: mnist }
models: { lstm: { type: lstm } }
sweep:
  training.learningRate: [0.001, 0.002]
search:
  repeats: 3
`);
    const plan = loadPlan(file, { cwd: dir });
    expect(plan.runs.map((r) => r.id)).toEqual([
      'learningRate=0.001,seed=5',
      'learningRate=0.001,seed=6',
      'learningRate=0.001,seed=7',
      'learningRate=0.002,seed=5',
      'learningRate=0.002,seed=6',
      'learningRate=0.002,seed=7',
    ]);
    expect(plan.runs.map((r) => r.config.seed)).toEqual([5, 6, 7, 5, 6, 7]);
    const single = loadPlan(file, { cwd: dir, sets: ['search.repeats=1'] });
    expect(single.runs.map((r) => r.id)).toEqual(['learningRate=0.001', 'learningRate=0.002']);
    // Same config, same identity: a finished run without repeats is repeat 1.
    expect(single.runs[0]!.hash).toBe(plan.runs[0]!.hash);
  });

  it('sweep x paired x random x repeats multiply', () => {
    const g = expandGrid({
      name: 'x',
      seed: 1,
      models: { lstm: models.lstm },
      sweep: { 'training.epochs': [1, 2] },
      search: {
        paired: { 'models.*.hidden': [8, 16, 32], 'training.learningRate': [0.01, 0.02, 0.03] },
        random: { trials: 4, space: { 'training.batchSize': { choice: [16, 32] } } },
        repeats: 2,
      },
    });
    expect(g.total).toBe(2 * 3 * 4 * 2);
    expect(new Set(g.cells.map((c) => c.id)).size).toBe(48);
    expect(g.cells[0]!.id).toMatch(/^epochs=1,hidden=8,learningRate=0\.01,trial=1,batchSize=(16|32),seed=1$/);
  });
});
