/**
 * Training speed of the study's 7 architectures on one backend (webgpu by default),
 * the best number of runs per GPU, and the projected wall time of the full
 * `experiments/mnist-compare.yaml` study.
 *
 *   npm run bench:gpu                                  short defaults (fine on a software adapter)
 *   npm run bench:gpu -- --batches 50 --warmup 5 --jobs 1,2,4,8 --eval 2000   on a real GPU
 *   npm run bench:gpu -- --backend wasm --models cnn,lstm
 *
 * Every measurement runs in fresh worker processes, as `xrun --jobs N --gpus G` would:
 * each builds the study's model (same layers as the study, real MNIST images), trains
 * `--warmup` batches of 64 (shader compilation, allocation), waits until every worker is
 * warm, then times `--batches` batches and an evaluation pass over `--eval` test images.
 * Per model: 1 worker. Runs per GPU: `--jobs` workers at once on `--jobs-model`, all on
 * adapter `--gpu`; their combined images/s against one worker's gives the speed-up.
 *
 * Projection: each run of the study is 5 epochs of 60,000 training and 10,000 test images;
 * its time is 5 * (60000 / train img/s + 10000 / eval img/s), the runs' sum is the study
 * with one worker, and that sum divided by the best speed-up is the study with that many
 * workers (this assumes every model shares a GPU as well as the one measured).
 * Prints tables, then everything as JSON on the last line.
 */
import { fork } from 'node:child_process';
import { availableParallelism, loadavg } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const BATCH = 64;
const STUDY = { file: path.join(root, 'experiments/mnist-compare.yaml'), train: 60_000, test: 10_000, epochs: 5 };

const { values } = parseArgs({
  options: {
    backend: { type: 'string', default: 'webgpu' },
    gpu: { type: 'string', default: '0' },
    models: { type: 'string', default: 'cnn,rnn,lstm,gru,birnn,bilstm,bigru' },
    warmup: { type: 'string', default: '1' },
    batches: { type: 'string', default: '2' },
    eval: { type: 'string', default: '128' },
    jobs: { type: 'string', default: '1,2' },
    'jobs-model': { type: 'string', default: 'cnn' },
    worker: { type: 'string' },
  },
});

interface Measurement {
  model: string;
  trainImagesPerSecond: number;
  evalImagesPerSecond: number;
  adapter?: { index: number; name: string; software: boolean };
  backend: string;
}

type ToWorker = { type: 'go' };
type FromWorker = { type: 'ready' } | { type: 'done'; result: Measurement; trainSeconds: number } | { type: 'error'; message: string };

// ---------------------------------------------------------------- worker side

async function worker(model: string): Promise<void> {
  const tf = await import('@tensorflow/tfjs');
  const { loadPlan } = await import('../src/config/load.js');
  const { loadDataset } = await import('../src/data/datasets.js');
  const { buildModel } = await import('../src/model/build.js');
  const { selectBackend, releaseBackend } = await import('../src/train/backend.js');
  const { createOptimizer } = await import('../src/train/optimizer.js');
  const { evaluate, trainStep } = await import('../src/train/trainer.js');
  const send = (m: FromWorker) => process.send!(m);
  try {
    tf.enableProdMode();
    const plan = loadPlan(STUDY.file, { sets: [`sweep.model=[${model}]`] });
    const config = plan.runs[0]!.config;
    const backend = await selectBackend(values.backend as 'webgpu');
    const warmup = Number(values.warmup);
    const batches = Number(values.batches);
    const evalImages = Number(values.eval);
    const data = await loadDataset(
      { ...(config.dataset as object), subset: { train: BATCH * Math.max(warmup + batches, 1), test: evalImages } } as never,
      { seed: config.seed, baseDir: '/' },
    );
    const net = buildModel(config.models[config.model]!, data, config.seed);
    const optimizer = createOptimizer(config.training);
    const vars = net.trainableWeights.map((w) => w.read() as import('@tensorflow/tfjs').Variable);
    const batchIdx = (b: number) => Int32Array.from({ length: BATCH }, (_, i) => (b * BATCH + i) % data.train.count);
    const step = async (b: number, read: boolean) => {
      const pair = trainStep(net, optimizer, vars, data.train, batchIdx(b), data.classes);
      if (read) await pair.data();
      pair.dispose();
    };
    for (let b = 0; b < warmup; b++) await step(b, true);
    await evaluate(net, data.test, data.classes, 500);
    send({ type: 'ready' });
    await new Promise<void>((resolve) => process.once('message', (m: ToWorker) => m.type === 'go' && resolve()));
    const t0 = performance.now();
    // Only the last batch is read: a GPU keeps the others queued, as in training.
    for (let b = 0; b < batches; b++) await step(warmup + b, b === batches - 1);
    const trainSeconds = (performance.now() - t0) / 1000;
    const t1 = performance.now();
    await evaluate(net, data.test, data.classes, 500);
    const evalSeconds = (performance.now() - t1) / 1000;
    const a = backend.adapter;
    send({
      type: 'done',
      trainSeconds,
      result: {
        model,
        backend: backend.name,
        trainImagesPerSecond: (batches * BATCH) / trainSeconds,
        evalImagesPerSecond: evalImages / evalSeconds,
        ...(a ? { adapter: { index: a.index, name: a.name, software: a.software } } : {}),
      },
    });
    net.dispose();
    optimizer.dispose();
    data.dispose();
    releaseBackend();
  } catch (err) {
    send({ type: 'error', message: (err as Error).stack ?? String(err) });
  }
  process.disconnect();
}

// ---------------------------------------------------------------- parent side

/** `jobs` workers on `model` at once; resolves with each one's result and the combined train img/s. */
async function measure(model: string, jobs: number): Promise<{ results: Measurement[]; combined: number }> {
  const script = fileURLToPath(import.meta.url);
  const children = Array.from({ length: jobs }, () =>
    fork(script, [...process.argv.slice(2).filter((a) => !a.startsWith('--worker')), `--worker=${model}`], {
      execArgv: ['--import', 'tsx'],
      env: { ...process.env, XRUN_GPU: values.gpu },
      stdio: ['ignore', 'inherit', 'pipe', 'ipc'],
    }),
  );
  let stderr = '';
  for (const c of children) c.stderr?.on('data', (d: Buffer) => (stderr = (stderr + d.toString()).slice(-4000)));
  const failed = (m: string) => new Error(`${model} x${jobs}: ${m}\n${stderr.split('\n').filter((l) => !/^Warning: max/.test(l)).join('\n')}`);
  const next = (c: (typeof children)[number]) =>
    new Promise<FromWorker>((resolve, reject) => {
      c.once('message', (m: FromWorker) => (m.type === 'error' ? reject(failed(m.message)) : resolve(m)));
      c.once('exit', (code) => reject(failed(`worker exited with code ${code}`)));
    });
  await Promise.all(children.map(next));
  const done = children.map(next);
  for (const c of children) c.send({ type: 'go' } satisfies ToWorker);
  const finished = (await Promise.all(done)) as Array<Extract<FromWorker, { type: 'done' }>>;
  await Promise.all(children.map((c) => new Promise((r) => (c.exitCode !== null ? r(null) : c.once('exit', r)))));
  // Workers start together; the slowest one bounds the combined rate.
  const slowest = Math.max(...finished.map((f) => f.trainSeconds));
  return { results: finished.map((f) => f.result), combined: (jobs * Number(values.batches) * BATCH) / slowest };
}

function hms(seconds: number): string {
  const s = Math.round(seconds);
  return `${Math.floor(s / 3600)}:${String(Math.floor((s % 3600) / 60)).padStart(2, '0')}:${String(s % 60).padStart(2, '0')}`;
}

function table(header: string[], rows: string[][]): string {
  const line = (cells: string[]) => `| ${cells.join(' | ')} |`;
  return [line(header), `|${header.map((_, i) => (i === 0 ? ' --- ' : ' ---: ')).join('|')}|`, ...rows.map(line)].join('\n');
}

async function main(): Promise<void> {
  const models = values.models.split(',').map((m) => m.trim()).filter(Boolean);
  const jobsList = values.jobs.split(',').map(Number).filter((n) => Number.isInteger(n) && n > 0);
  const perModel: Measurement[] = [];
  for (const model of models) {
    process.stderr.write(`  ${model} ...\n`);
    perModel.push((await measure(model, 1)).results[0]!);
  }
  const first = perModel[0];
  const adapter = first?.adapter;
  console.log(
    `backend ${first?.backend ?? values.backend}` +
      (adapter ? `, adapter ${adapter.index}: ${adapter.name} (${adapter.software ? 'SOFTWARE rasteriser: correctness only, not GPU speed' : 'hardware'})` : '') +
      `; batch ${BATCH}, ${values.batches} timed batches after ${values.warmup} warm-up, evaluation over ${values.eval} test images` +
      `; ${availableParallelism()} CPUs, load average ${loadavg()[0]!.toFixed(1)} at the end\n`,
  );
  const runSeconds = (m: Measurement) => STUDY.epochs * (STUDY.train / m.trainImagesPerSecond + STUDY.test / m.evalImagesPerSecond);
  console.log(
    table(
      ['model', 'train img/s', 'eval img/s', 'one study run (5 epochs)'],
      perModel.map((m) => [m.model, m.trainImagesPerSecond.toFixed(1), m.evalImagesPerSecond.toFixed(1), hms(runSeconds(m))]),
    ),
  );

  const scan: Array<{ jobs: number; combined: number; speedup: number }> = [];
  for (const jobs of jobsList) {
    process.stderr.write(`  ${values['jobs-model']} x${jobs} ...\n`);
    const { combined } = await measure(values['jobs-model'], jobs);
    scan.push({ jobs, combined, speedup: 0 });
  }
  const base = scan.find((s) => s.jobs === 1)?.combined ?? scan[0]?.combined ?? 1;
  for (const s of scan) s.speedup = s.combined / base;
  const best = scan.reduce((a, b) => (b.combined > a.combined ? b : a), scan[0] ?? { jobs: 1, combined: base, speedup: 1 });
  console.log(`\nruns per GPU (${values['jobs-model']}, workers on adapter ${values.gpu}):\n`);
  console.log(
    table(
      ['jobs', 'train img/s, all workers', 'per worker', 'speed-up'],
      scan.map((s) => [String(s.jobs), s.combined.toFixed(1), (s.combined / s.jobs).toFixed(1), `${s.speedup.toFixed(2)}x`]),
    ),
  );
  const serial = perModel.reduce((sum, m) => sum + runSeconds(m), 0);
  const projected = serial / best.speedup;
  const all7 = models.length === 7;
  console.log(
    `\nbest: --jobs ${best.jobs} (${best.speedup.toFixed(2)}x one worker)\n` +
      `projected ${all7 ? 'mnist-compare' : `mnist-compare, these ${models.length} models only`}: ${hms(serial)} with one worker, ` +
      `${hms(projected)} with --jobs ${best.jobs} (the seed study took 0:42:19 on its GPU)`,
  );
  console.log(
    JSON.stringify({
      backend: first?.backend,
      adapter,
      batch: BATCH,
      cpus: availableParallelism(),
      loadAverage: loadavg()[0],
      warmup: Number(values.warmup),
      batches: Number(values.batches),
      evalImages: Number(values.eval),
      models: perModel,
      jobs: scan,
      best: best.jobs,
      projectedSeconds: { oneWorker: serial, best: projected },
    }),
  );
}

if (values.worker !== undefined) {
  await worker(values.worker);
} else {
  await main();
}
