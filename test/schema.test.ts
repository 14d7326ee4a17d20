import { readFileSync, readdirSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { loadPlan } from '../src/config/load.js';
import { SCHEMA_FILE, schemaFileText } from '../src/config/write-schema.js';
import { validateExperiment } from '../src/config/validate.js';

describe('experiment schema', () => {
  it('committed schemas/experiment.schema.json matches the TypeBox definition (npm run schema:write)', () => {
    expect(readFileSync(SCHEMA_FILE, 'utf8')).toBe(schemaFileText());
  });

  it('is draft 2020-12 and closed to unknown keys', () => {
    const schema = JSON.parse(schemaFileText());
    expect(schema.$schema).toBe('https://json-schema.org/draft/2020-12/schema');
    expect(schema.additionalProperties).toBe(false);
    expect(schema.properties.training.additionalProperties).toBe(false);
  });

  it.each(readdirSync('experiments').filter((f) => f.endsWith('.yaml')))('shipped experiment %s is valid', (file) => {
    const text = readFileSync(`experiments/${file}`, 'utf8');
    expect(text.split('\n')[0]).toBe('# yaml-language-server: $schema=../schemas/experiment.schema.json');
    expect(() => loadPlan(`experiments/${file}`)).not.toThrow();
  });

  it('accepts every dataset form and rejects a wrong discriminator with the allowed values', () => {
    const base = { name: 'x', models: { m: { type: 'cnn' } } };
    expect(validateExperiment({ ...base, dataset: { name: 'mnist', normalise: 'minmax' } })).toEqual([]);
    expect(validateExperiment({ ...base, dataset: { name: 'fashion-mnist', dir: '/d', normalise: 'none' } })).toEqual([]);
    expect(
      validateExperiment({
        ...base,
        dataset: { name: 'idx', train: { images: 'a', labels: 'b' }, test: { images: 'c', labels: 'd' }, classes: 10 },
      }),
    ).toEqual([]);
    const [problem, ...rest] = validateExperiment({ ...base, dataset: { name: 'mnsit' } });
    expect(rest).toEqual([]);
    expect(problem!.path).toEqual(['dataset', 'name']);
    expect(problem!.message).toContain("did you mean 'mnist'");
  });

  it('reports a typo in each of several models of different types', () => {
    const problems = validateExperiment({
      name: 'x',
      dataset: { name: 'mnist' },
      models: { a: { type: 'rnn', hiden: 1 }, b: { type: 'lstm', hiden: 1 }, c: { type: 'cnn', filter: [1] }, d: { type: 'gru' } },
    });
    expect(problems.map((p) => p.path)).toEqual([
      ['models', 'a', 'hiden'],
      ['models', 'b', 'hiden'],
      ['models', 'c', 'filter'],
    ]);
    expect(problems.map((p) => p.message.match(/did you mean '(\w+)'/)?.[1])).toEqual(['hidden', 'hidden', 'filters']);
  });

  it('reports one problem for a wrong normalise form, not one per union branch', () => {
    const problems = validateExperiment({ name: 'x', models: { m: { type: 'cnn' } }, dataset: { name: 'mnist', normalise: 'zscore' } });
    expect(problems).toHaveLength(1);
    expect(problems[0]!.message).toContain("{mean, std}, 'minmax', 'none'");
  });
});
