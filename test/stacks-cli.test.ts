/**
 * Layer stacks and the training recipe through the CLI, as a user runs them: a conv stack
 * with batch norm and a bidirectional LSTM into a GRU, a validation split, early
 * stopping; and a stack that cannot work, refused before anything is written.
 */
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { tempProject, tinyExperiment, xrun } from './helpers/cli.js';

const STACKS = `
  conv3:
    type: stack
    layers:
      - { type: conv2d, filters: 4, activation: linear }
      - { type: batchNorm, momentum: 0.8 }
      - { type: activation, activation: relu }
      - { type: maxPool2d }
      - { type: conv2d, filters: 8 }
      - { type: batchNorm }
      - { type: maxPool2d }
      - { type: conv2d, filters: 8 }
      - { type: batchNorm }
      - { type: globalAveragePool }
  lstm-gru:
    type: stack
    layers:
      - { type: sequence }
      - { type: lstm, units: 6, bidirectional: true, returnSequences: true }
      - { type: gru, units: 6 }`;

// minDelta 100: no epoch can improve on the first, so patience 1 ends every run after epoch 2 of 4.
const RECIPE =
  'batchSize: 32, epochs: 4, learningRate: 0.01, warmup: 1, schedule: { type: cosine }, ' +
  'weightDecay: 0.001, clipNorm: 1, labelSmoothing: 0.1, earlyStopping: { metric: val_loss, patience: 1, minDelta: 100 }';

const withValidation = (yaml: string) => yaml.replace('subset: { train: 192, test: 96 }', 'subset: { train: 192, test: 96 }\n  validation: 0.1');

describe('layer stacks with validation and early stopping', () => {
  let dir: string;
  let first: ReturnType<typeof xrun>;
  beforeAll(() => {
    dir = tempProject({
      'exp.yaml': withValidation(tinyExperiment('stacks', 'sweep:\n  model: [conv3, lstm-gru]\n', { models: STACKS, training: RECIPE })),
    });
    first = xrun(['exp.yaml'], dir);
  }, 300_000);

  it('plan shows each model with its parameter count', () => {
    const plan = xrun(['plan', 'exp.yaml'], dir);
    expect(plan.code).toBe(0);
    // conv3: 40 + 16 + 296 + 32 + 584 + 32 + (8*10 + 10); lstm-gru: 2*4*6*(28+6+1) + 3*6*(12+6+1) + 6*10 + 10.
    expect(plan.stdout).toMatch(/model=conv3\s+conv3\s+1,090\s/);
    expect(plan.stdout).toMatch(/model=lstm-gru\s+lstm-gru\s+2,092\s/);
  });

  it('both stacks run end to end; early stopping ends them as completed, best chosen on validation', () => {
    expect(first.stderr).toBe('');
    expect(first.code).toBe(0);
    const out = join(dir, 'runs/stacks');
    for (const run of ['model=conv3', 'model=lstm-gru']) {
      const record = JSON.parse(readFileSync(join(out, run, 'run.json'), 'utf8'));
      expect(record.status).toBe('completed');
      expect(record.epochsCompleted).toBe(2);
      expect(record.stoppedEarly).toMatchObject({ epoch: 2, bestEpoch: 1 });
      expect(record.stoppedEarly.reason).toContain('val_loss did not improve by more than 100 for 1 epoch(s)');
      const csv = readFileSync(join(out, run, 'metrics.csv'), 'utf8').trim().split('\n');
      expect(csv[0]).toBe('epoch,train_loss,train_accuracy,val_loss,val_accuracy,test_loss,test_accuracy,lr,epoch_seconds,elapsed_seconds');
      const rows = csv.slice(1).map((l) => l.split(',').map(Number));
      expect(rows.map((r) => r[0])).toEqual([1, 2]);
      // The best epoch is the one with the highest validation accuracy (the first on ties).
      const bestRow = rows.reduce((b, r) => (r[4]! > b[4]! ? r : b));
      expect(record.best).toEqual({ epoch: bestRow[0], val_accuracy: bestRow[4], test_accuracy: bestRow[6], test_loss: bestRow[5] });
      expect(existsSync(join(out, run, 'checkpoints/best/weights.bin'))).toBe(true);
      // Warm-up epoch at half the rate, then cosine from the full rate.
      expect(rows.map((r) => r[7])).toEqual([0.005, 0.01]);
    }
    const summary = readFileSync(join(out, 'summary.md'), 'utf8');
    expect(summary).toContain('*best epoch* is chosen on the validation split');
    expect(summary).toContain('- model=conv3: stopped after epoch 2; early stopping: val_loss did not improve');
    // compare (and report.html) read the same selection: test accuracy at the best validation epoch.
    const compared = JSON.parse(xrun(['compare', 'runs/stacks', '--format', 'json'], dir).stdout) as { run: string; best_test_accuracy: number }[];
    for (const c of compared) {
      const record = JSON.parse(readFileSync(join(out, c.run, 'run.json'), 'utf8'));
      expect(c.best_test_accuracy).toBe(record.best.test_accuracy);
    }
    const status = xrun(['status', 'runs/stacks'], dir);
    expect(status.stdout).toMatch(/model=conv3\s+completed \(stopped early after 2\)\s+2\/4/);
    const again = xrun(['exp.yaml'], dir);
    expect(again.stdout).toContain('0 to train, 2 skipped');
  });
});

describe('a stack that cannot work', () => {
  it('an rnn right after a conv: one positioned error, exit 2, nothing written', () => {
    const bad = `
  bad:
    type: stack
    layers:
      - { type: conv2d, filters: 4 }
      - { type: maxPool2d }
      - { type: gru, units: 8 }`;
    const dir = tempProject({ 'bad.yaml': tinyExperiment('bad', 'model: bad\n', { models: bad }) });
    const r = xrun(['bad.yaml'], dir);
    expect(r.code).toBe(2);
    const errors = r.stderr.split('\n').filter((l) => /^bad\.yaml:\d+:\d+: error:/.test(l));
    expect(errors).toHaveLength(1);
    expect(errors[0]).toBe(
      'bad.yaml:13:9: error: models.bad.layers.2: gru receives [14, 14, 4]: needs [steps, features]; ' +
        'add { type: sequence } before it to read the rows as time steps; in run model=bad',
    );
    expect(r.stderr).toContain('      - { type: gru, units: 8 }');
    expect(existsSync(join(dir, 'runs'))).toBe(false);
  });

  it('idx images too small for the stack: stopped before anything is written, naming the layer', () => {
    const idx = (dims: number[]) => {
      const header = Buffer.alloc(4 + 4 * dims.length);
      header[2] = 0x08;
      header[3] = dims.length;
      dims.forEach((d, i) => header.writeUInt32BE(d, 4 + 4 * i));
      return Buffer.concat([header, Buffer.alloc(dims.reduce((a, b) => a * b, 1), 1)]);
    };
    const models = `
  small:
    type: stack
    layers:
      - { type: conv2d, filters: 4 }
      - { type: maxPool2d, poolSize: 4 }
      - { type: maxPool2d, poolSize: 4 }`;
    const dir = tempProject({
      'idx.yaml': tinyExperiment('idx', 'model: small\n', { models }).replace(
        /dataset:\n  name: mnist\n  subset: \{ train: 192, test: 96 \}\n/,
        'dataset:\n  name: idx\n  train: { images: ti, labels: tl }\n  test: { images: si, labels: sl }\n  classes: 3\n',
      ),
    });
    writeFileSync(join(dir, 'ti'), idx([6, 8, 8]));
    writeFileSync(join(dir, 'tl'), idx([6]));
    writeFileSync(join(dir, 'si'), idx([2, 8, 8]));
    writeFileSync(join(dir, 'sl'), idx([2]));
    const r = xrun(['idx.yaml'], dir);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('models.small.layers.2: maxPool2d receives [2, 2, 4]: a window of 4 does not fit');
    expect(r.stderr).toContain('(the images are 8x8)');
    expect(existsSync(join(dir, 'runs'))).toBe(false);
  });
});
