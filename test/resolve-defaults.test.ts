/** config.yaml spells out the defaults it promises, without changing any run's identity. */
import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { canonicalJson, configHash, configHashExceptEpochs, resolveRunConfig } from '../src/config/resolve.js';
import type { Experiment } from '../src/config/schema.js';

const base = (dataset: Experiment['dataset'], extra: Partial<Experiment> = {}) =>
  resolveRunConfig({ name: 'd', dataset, models: { m: { type: 'rnn' } }, model: 'm', ...extra } as Experiment & { model: string }, '/work/exp');

describe('resolved defaults', () => {
  it('fills runtime.jobs and the Fashion-MNIST folder', () => {
    const config = base({ name: 'fashion-mnist' });
    expect(config.runtime).toEqual({ backend: 'auto', jobs: 1 });
    expect(config.dataset).toMatchObject({ name: 'fashion-mnist', dir: '/usr/share/datasets/fashion-mnist' });
    expect(base({ name: 'fashion-mnist', dir: 'data/fm' }).dataset).toMatchObject({ dir: '/work/exp/data/fm' });
  });

  it('the default folder written out keeps the hash it had when it was left out', () => {
    const config = base({ name: 'fashion-mnist' });
    const { dir: _dir, ...withoutDir } = config.dataset as Record<string, unknown>;
    const before = createHash('sha256')
      .update(canonicalJson({ seed: config.seed, dataset: withoutDir, model: config.models.m, training: config.training }))
      .digest('hex')
      .slice(0, 16);
    expect(configHash(config)).toBe(before);
    expect(configHash(base({ name: 'fashion-mnist', dir: '/usr/share/datasets/fashion-mnist' }))).toBe(before);
    expect(configHash(base({ name: 'fashion-mnist', dir: '/elsewhere' }))).not.toBe(before);
  });

  it('the hash without epochs ignores training.epochs and nothing else', () => {
    const a = base({ name: 'mnist' }, { training: { epochs: 2 } });
    const b = base({ name: 'mnist' }, { training: { epochs: 5 } });
    const c = base({ name: 'mnist' }, { training: { epochs: 5, learningRate: 0.01 } });
    expect(configHash(a)).not.toBe(configHash(b));
    expect(configHashExceptEpochs(a)).toBe(configHashExceptEpochs(b));
    expect(configHashExceptEpochs(c)).not.toBe(configHashExceptEpochs(b));
  });
});
