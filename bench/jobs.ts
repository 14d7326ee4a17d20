/**
 * Wall time of one grid of 4 equal runs with `--jobs 1` and with `--jobs 2`: how much
 * running workers side by side buys on this machine. The runs differ only in their seed,
 * so they do the same amount of work.
 *
 *   npm run build && npx tsx bench/jobs.ts [--train 10000] [--hidden 64] [--epochs 1] [--repeat 2]
 *
 * Each mode runs `--repeat` times, alternating (1, 2, 1, 2, ...) so slow drift in the
 * machine's load hits both alike; the best wall time of each mode is compared, as the
 * least disturbed estimate of what the mode costs.
 *
 * Uses the built CLI (`node bin/xrun.js`) exactly as a user would, each mode into a fresh
 * temporary output folder, so nothing is skipped. Prints a line per mode, then the ratio
 * jobs2/jobs1 (lower is better; with 2 free cores about 0.5 is the ideal, and worker start-up
 * and data loading are part of each run), and the whole result as JSON on the last line.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { availableParallelism, loadavg, tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const cli = path.join(root, 'bin/xrun.js');
const RUNS = 4;

const { values } = parseArgs({
  options: {
    train: { type: 'string', default: '10000' },
    hidden: { type: 'string', default: '64' },
    epochs: { type: 'string', default: '1' },
    repeat: { type: 'string', default: '2' },
    keep: { type: 'boolean', default: false },
  },
});

if (!existsSync(path.join(root, 'dist/cli/main.js'))) {
  console.error('bench/jobs.ts: build first (npm run build)');
  process.exit(2);
}

const seeds = Array.from({ length: RUNS }, (_, i) => i + 1);
const experiment = `name: bench-jobs
runtime: { backend: wasm }
dataset:
  name: mnist
  subset: { train: ${Number(values.train)}, test: 500 }
models:
  lstm: { type: lstm, hidden: ${Number(values.hidden)}, layers: 1 }
model: lstm
training: { batchSize: 64, epochs: ${Number(values.epochs)}, learningRate: 0.002 }
sweep:
  seed: [${seeds.join(', ')}]
`;

interface ModeResult {
  jobs: number;
  wallSeconds: number;
  /** Mean of the runs' own training time (epochs only, from run.json). */
  meanTrainingSeconds: number;
  /** Mean wall time of a run's attempt (run.json start to end): backend set-up, data loading and plots included, process start not. */
  meanRunSeconds: number;
  loadBefore: number;
}

const work = mkdtempSync(path.join(tmpdir(), 'xrun-bench-jobs-'));
writeFileSync(path.join(work, 'exp.yaml'), experiment);

function runMode(jobs: number, attempt: number): ModeResult {
  const output = path.join(work, `jobs${jobs}-${attempt}`);
  const loadBefore = loadavg()[0]!;
  const started = performance.now();
  const r = spawnSync(process.execPath, [cli, 'exp.yaml', '--jobs', String(jobs), '--set', `output=${output}`], {
    cwd: work,
    // CI: plain progress lines, no terminal UI redrawing while we time it.
    env: { ...process.env, CI: '1' },
    encoding: 'utf8',
  });
  const wallSeconds = (performance.now() - started) / 1000;
  if (r.status !== 0) {
    console.error(r.stdout, r.stderr);
    throw new Error(`xrun --jobs ${jobs} exited with ${r.status}`);
  }
  const records = seeds.map((s) => JSON.parse(readFileSync(path.join(output, `seed=${s}`, 'run.json'), 'utf8')));
  const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;
  return {
    jobs,
    wallSeconds,
    meanTrainingSeconds: mean(records.map((r) => r.trainingSeconds as number)),
    meanRunSeconds: mean(records.map((r) => (Date.parse(r.endedAt) - Date.parse(r.startedAt)) / 1000)),
    loadBefore,
  };
}

try {
  console.log(`${RUNS} runs: lstm hidden ${values.hidden}, ${values.train} training images, ${values.epochs} epoch(s); ${availableParallelism()} cores`);
  const all: ModeResult[] = [];
  for (let attempt = 1; attempt <= Number(values.repeat); attempt++) {
    for (const jobs of [1, 2]) {
      const r = runMode(jobs, attempt);
      all.push(r);
      console.log(
        `--jobs ${jobs}: ${r.wallSeconds.toFixed(1)} s wall; per run ${r.meanRunSeconds.toFixed(1)} s ` +
          `(${r.meanTrainingSeconds.toFixed(1)} s training); load before ${r.loadBefore.toFixed(2)}`,
      );
    }
  }
  const best = (jobs: number) =>
    all.filter((r) => r.jobs === jobs).reduce((a, b) => (b.wallSeconds < a.wallSeconds ? b : a));
  const results = [best(1), best(2)];
  const ratio = results[1]!.wallSeconds / results[0]!.wallSeconds;
  console.log(
    `best of ${values.repeat}: --jobs 1 ${results[0]!.wallSeconds.toFixed(1)} s, --jobs 2 ${results[1]!.wallSeconds.toFixed(1)} s; ` +
      `jobs2/jobs1: ${ratio.toFixed(3)} (target <= 0.6)`,
  );
  console.log(
    JSON.stringify({
      runs: RUNS,
      train: Number(values.train),
      hidden: Number(values.hidden),
      epochs: Number(values.epochs),
      cores: availableParallelism(),
      jobs1: results[0],
      jobs2: results[1],
      ratio,
      attempts: all.map((r) => ({ jobs: r.jobs, wallSeconds: r.wallSeconds })),
    }),
  );
} finally {
  if (!values.keep) rmSync(work, { recursive: true, force: true });
}
