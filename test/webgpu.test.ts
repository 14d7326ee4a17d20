/**
 * The webgpu backend end to end through the built CLI, on whatever adapter Dawn finds
 * (in CI: Mesa's lavapipe, a software Vulkan driver: slow, but the same code path as a
 * GPU). Without an adapter every test here is skipped, and the reason is printed.
 *
 * Tolerance against wasm. The two backends run the same model, data order and dropout
 * masks, but their float32 kernels add in different orders, so each step differs in the
 * last bits and the differences grow a little with every optimiser step. Measured on
 * lavapipe: mnist-quick's 7 models (512 images, 1 epoch) within 4e-7 relative in loss
 * with identical accuracies; the worst seen, a tiny CNN with dropout over 2 epochs, 3e-3
 * in test loss and 1 test image of 300. The bounds below (2% relative for losses, 4 test
 * images of 96 for accuracy) leave room for other drivers and more steps while still
 * failing on any real defect: a wrong kernel, lost batches or misread metrics move these
 * numbers by far more.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { listGpuAdapters, type GpuAdapter } from '../src/train/gpu-adapters.js';
import { tempProject, tinyExperiment, xrun, xrunUntil } from './helpers/cli.js';

let adapters: GpuAdapter[] = [];
let why = '';
try {
  adapters = await listGpuAdapters();
  if (adapters.length === 0) why = 'Dawn finds no GPU adapter';
} catch (err) {
  why = (err as Error).message;
}
if (why) {
  console.warn(
    `webgpu tests SKIPPED: ${why}. Install a Vulkan driver (for CI: Mesa >= 24 lavapipe, ` +
      'apt-get install -t bookworm-backports mesa-vulkan-drivers) to run them.',
  );
}

const TEST_IMAGES = 96;

function readRecord(runDir: string) {
  return JSON.parse(readFileSync(join(runDir, 'run.json'), 'utf8'));
}

function metrics(runDir: string): Array<Record<string, number>> {
  const [header, ...lines] = readFileSync(join(runDir, 'metrics.csv'), 'utf8').trimEnd().split('\n');
  const names = header!.split(',');
  return lines.map((l) => Object.fromEntries(l.split(',').map((v, i) => [names[i]!, Number(v)])));
}

/** The metric columns only, as text: equal means byte-identical numbers. */
function metricText(runDir: string): string[] {
  return readFileSync(join(runDir, 'metrics.csv'), 'utf8')
    .trimEnd()
    .split('\n')
    .map((l) => l.split(',').slice(0, 5).join(','));
}

const RUN_FILES = ['config.yaml', 'metrics.csv', 'run.json', 'checkpoints/last/weights.bin', 'plots/training.png'];

describe.skipIf(why !== '')('webgpu', () => {
  it('a tiny CNN and LSTM train on webgpu, four workers on adapter 0, within tolerance of wasm', () => {
    const dir = tempProject({ 'exp.yaml': tinyExperiment('gpu', 'sweep:\n  model: [cnn, lstm]\n  seed: [1, 2]\n') });
    const gpu = xrun(['exp.yaml', '--backend', 'webgpu', '--jobs', '4', '--gpus', '0', '--set', 'output=gpu'], dir);
    expect(gpu.code, gpu.stderr + gpu.stdout).toBe(0);
    const cpu = xrun(['exp.yaml', '--backend', 'wasm', '--jobs', '2', '--set', 'output=wasm'], dir);
    expect(cpu.code, cpu.stderr).toBe(0);

    const ids = ['model=cnn,seed=1', 'model=cnn,seed=2', 'model=lstm,seed=1', 'model=lstm,seed=2'];
    const records = ids.map((id) => readRecord(join(dir, 'gpu', id)));
    for (const [i, id] of ids.entries()) {
      for (const f of RUN_FILES) expect(existsSync(join(dir, 'gpu', id, f)), `${id}/${f}`).toBe(true);
      const r = records[i];
      expect(r.status).toBe('completed');
      expect(r.backend.name).toBe('webgpu');
      expect(r.backend.adapter.index).toBe(0);
      expect(r.backend.adapter.vendor).toBe(adapters[0]!.vendor);
      expect(r.backend.adapter.software).toBe(adapters[0]!.software);
      expect(r.versions['@tensorflow/tfjs-backend-webgpu']).toMatch(/^4\./);

      const a = metrics(join(dir, 'gpu', id));
      const b = metrics(join(dir, 'wasm', id));
      expect(a).toHaveLength(2);
      for (const [e, row] of a.entries()) {
        const ref = b[e]!;
        for (const k of ['train_loss', 'test_loss']) expect(Math.abs(row[k]! - ref[k]!) / ref[k]!, `${id} epoch ${e + 1} ${k}`).toBeLessThan(0.02);
        expect(Math.abs(row.test_accuracy! - ref.test_accuracy!) * TEST_IMAGES, `${id} epoch ${e + 1} test_accuracy`).toBeLessThanOrEqual(4);
      }
    }
    // Four workers were alive at once, all on the one adapter.
    const latestStart = Math.max(...records.map((r) => Date.parse(r.startedAt)));
    const earliestEnd = Math.min(...records.map((r) => Date.parse(r.endedAt)));
    expect(latestStart).toBeLessThan(earliestEnd);
  }, 600_000);

  it('Ctrl-C stops within an epoch; the resumed run ends where an unbroken webgpu run does', async () => {
    const exp = tinyExperiment('gpustop', 'model: cnn\n', {
      models: '\n  cnn: { type: cnn, filters: [4], dense: 8, dropout: 0.2 }',
      training: 'batchSize: 32, epochs: 2, learningRate: 0.005',
    }).replace('subset: { train: 192, test: 96 }', 'subset: { train: 1600, test: 96 }');
    const dir = tempProject({ 'exp.yaml': exp });
    const runDir = join(dir, 'runs/gpustop/model=cnn');

    const run = xrunUntil(['exp.yaml', '--backend', 'webgpu'], dir, /epoch 1\/2/);
    await run.matched;
    const sent = performance.now();
    run.child.kill('SIGINT');
    expect(await run.exited).toBe(130);
    const stopSeconds = (performance.now() - sent) / 1000;
    const stopped = readRecord(runDir);
    expect(stopped.status).toBe('interrupted');
    // Epoch 2 was abandoned, not finished first.
    expect(stopped.epochsCompleted).toBe(1);
    expect(stopSeconds).toBeLessThan(stopped.final.epoch_seconds);

    const resumed = xrun(['exp.yaml', '--backend', 'webgpu'], dir);
    expect(resumed.code, resumed.stderr).toBe(0);
    expect(resumed.stdout).toContain('resuming after epoch 1');
    expect(readRecord(runDir).status).toBe('completed');

    const clean = xrun(['exp.yaml', '--backend', 'webgpu', '--set', 'output=clean'], dir);
    expect(clean.code, clean.stderr).toBe(0);
    // Epoch 1 is the same epoch; after the resume, tfjs's Adam.setWeights rebuilds its
    // beta powers with pow(), which can differ from the running product in the last bit
    // (on wasm too, at some step counts), so later epochs agree to float32 rounding.
    const resumedRows = metrics(runDir);
    const cleanRows = metrics(join(dir, 'clean/model=cnn'));
    expect(resumedRows).toHaveLength(2);
    expect(metricText(runDir)[1]).toBe(metricText(join(dir, 'clean/model=cnn'))[1]);
    for (const [e, row] of resumedRows.entries()) {
      for (const k of ['train_loss', 'test_loss']) expect(Math.abs(row[k]! - cleanRows[e]![k]!) / cleanRows[e]![k]!, `epoch ${e + 1} ${k}`).toBeLessThan(1e-5);
      for (const k of ['train_accuracy', 'test_accuracy']) expect(row[k], `epoch ${e + 1} ${k}`).toBe(cleanRows[e]![k]);
    }
  }, 600_000);
});

describe('webgpu input checks (no adapter needed)', () => {
  it('--gpus naming an adapter that does not exist: exit 2 before anything is written', () => {
    const dir = tempProject({ 'exp.yaml': tinyExperiment('badgpu', 'model: cnn\n') });
    const r = xrun(['exp.yaml', '--backend', 'webgpu', '--gpus', '7'], dir);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/'7' is not a GPU adapter index|no GPU adapter found|webgpu/);
    expect(existsSync(join(dir, 'runs'))).toBe(false);
  });
});

describe('xrun doctor', () => {
  it('lists every backend, the adapters Dawn finds (lavapipe as software), and what auto picks', () => {
    const r = xrun(['doctor', '--format', 'json'], process.cwd());
    expect(r.code, r.stderr).toBe(0);
    const report = JSON.parse(r.stdout);
    expect(report.backends.map((b: { backend: string }) => b.backend)).toEqual(['tensorflow-gpu', 'webgpu', 'tensorflow', 'wasm', 'cpu']);
    const byName = Object.fromEntries(report.backends.map((b: { backend: string }) => [b.backend, b]));
    expect(byName.wasm.ok).toBe(true);
    expect(byName.cpu.ok).toBe(true);
    expect(byName['tensorflow-gpu'].ok).toBe(false);
    expect(byName['tensorflow-gpu'].fix).toContain('npm install @tensorflow/tfjs-node-gpu');
    expect(byName['tensorflow-gpu'].fix).toContain('tensorflow/tfjs#8742');
    expect(report.adapters.map((a: GpuAdapter) => a.name)).toEqual(adapters.map((a) => a.name));
    expect(byName.webgpu.ok).toBe(adapters.length > 0);
    if (!byName.webgpu.ok) expect(byName.webgpu.fix).toMatch(/Vulkan/);
    for (const a of report.adapters as GpuAdapter[]) {
      if (/llvmpipe/.test(a.name)) expect(a.software).toBe(true);
    }
    if (!adapters.some((a) => !a.software)) {
      expect(report.auto.backend).toBe('wasm');
      expect(report.auto.notes.join('\n')).toMatch(/^webgpu: /m);
    }

    const table = xrun(['doctor'], process.cwd());
    expect(table.code).toBe(0);
    expect(table.stdout).toMatch(/auto picks: \w+/);
    // The long fixes are numbered notes under the table, not a column wider than a terminal.
    expect(table.stdout).toMatch(/tensorflow-gpu\s+not available \[1\]/);
    expect(table.stdout).toMatch(/^ {2}\[1\] tensorflow-gpu: npm install @tensorflow\/tfjs-node-gpu/m);
    expect(table.stdout).not.toMatch(/to fix\s*$/m);
    if (adapters.some((a) => /llvmpipe/.test(a.name))) expect(table.stdout).toMatch(/0\s+software\s+vulkan\s+llvmpipe/);
  }, 120_000);
});
