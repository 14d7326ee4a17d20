/**
 * Training throughput of recurrent models on the wasm backend: tfjs's standard
 * recurrent layers against src/model/fused-recurrent.ts.
 *
 *   npx tsx bench/recurrent.ts                    every model, standard and fused
 *   npx tsx bench/recurrent.ts lstm bilstm        some models (rnn, lstm, gru, birnn, bilstm, bigru)
 *   npx tsx bench/recurrent.ts --steps 20         timed steps per round (default 10; best of 3 rounds)
 *   npx tsx bench/recurrent.ts --profile lstm     kernel counts and times of one training step
 *   npx tsx bench/recurrent.ts --rau              fused GRU against fused RAU (and both bidirectional)
 *
 * Setup as in the study: batch 64, 28 steps of 28 pixels, 2 layers of 128, Adam,
 * softmax cross-entropy on a dense-10 head.
 */
import * as tf from '@tensorflow/tfjs';
import { FusedRecurrent, type FusedCellType } from '../src/model/fused-recurrent.js';
import { selectBackend } from '../src/train/backend.js';

const BATCH = 64;
const STEPS = 28;
const SIZE = 28;
const UNITS = 128;
const LAYERS = 2;
const WARMUP = 3;

interface Spec {
  cell: FusedCellType;
  bidirectional: boolean;
}

type Impl = 'standard' | 'fused';

const MODELS: Record<string, Spec> = {
  lstm: { cell: 'lstm', bidirectional: false },
  gru: { cell: 'gru', bidirectional: false },
  rnn: { cell: 'rnn', bidirectional: false },
  bilstm: { cell: 'lstm', bidirectional: true },
  bigru: { cell: 'gru', bidirectional: true },
  birnn: { cell: 'rnn', bidirectional: true },
};

function buildModel(spec: Spec, impl: Impl): tf.LayersModel {
  const x = tf.input({ shape: [STEPS, SIZE] });
  let y: tf.SymbolicTensor = x;
  const bound = 1 / Math.sqrt(UNITS);
  for (let i = 0; i < LAYERS; i++) {
    const name = `${spec.cell}${i + 1}`;
    const uniform = (seed: number) => tf.initializers.randomUniform({ minval: -bound, maxval: bound, seed: 10 * i + seed });
    const common = {
      units: UNITS,
      returnSequences: i < LAYERS - 1,
      kernelInitializer: uniform(1),
      recurrentInitializer: uniform(2),
      biasInitializer: uniform(3),
    };
    let layer: tf.layers.Layer;
    if (impl === 'fused') {
      layer = new FusedRecurrent({ ...common, cell: spec.cell, bidirectional: spec.bidirectional, name });
    } else {
      const args = {
        ...common,
        ...(spec.cell === 'rnn' ? {} : { recurrentActivation: 'sigmoid' as const }),
        name: spec.bidirectional ? `${name}_cell` : name,
      };
      const cell = spec.cell === 'lstm' ? tf.layers.lstm(args) : spec.cell === 'gru' ? tf.layers.gru(args) : tf.layers.simpleRNN(args);
      layer = spec.bidirectional ? tf.layers.bidirectional({ layer: cell, mergeMode: 'concat', name }) : cell;
    }
    y = layer.apply(y) as tf.SymbolicTensor;
  }
  y = tf.layers.dense({ units: 10, name: 'logits' }).apply(y) as tf.SymbolicTensor;
  return tf.model({ inputs: x, outputs: y });
}

function trainer(model: tf.LayersModel) {
  const optimizer = tf.train.adam(1e-3);
  const x = tf.randomUniform([BATCH, STEPS, SIZE], 0, 1, 'float32', 1);
  const labels = tf.oneHot(tf.randomUniform([BATCH], 0, 10, 'int32', 2), 10);
  return {
    step(): number {
      const loss = optimizer.minimize(
        () => tf.losses.softmaxCrossEntropy(labels, model.apply(x, { training: true }) as tf.Tensor) as tf.Scalar,
        true,
      )!;
      const value = loss.dataSync()[0]!;
      loss.dispose();
      return value;
    },
    dispose() {
      optimizer.dispose();
      tf.dispose([x, labels]);
    },
  };
}

const ROUNDS = 3;

/**
 * Images/second of both implementations. Rounds of `steps` timed steps alternate between
 * the two so that background load hits both alike; each reports its best round.
 */
function measure(spec: Spec, steps: number): Record<Impl, number> {
  const [standard, fused] = measureModels([() => buildModel(spec, 'standard'), () => buildModel(spec, 'fused')], steps);
  return { standard: standard!, fused: fused! };
}

/** Best-round images/second of each model, rounds alternating between them. */
function measureModels(builders: (() => tf.LayersModel)[], steps: number): number[] {
  const runs = builders.map((build) => {
    const model = build();
    return { model, t: trainer(model), best: 0 };
  });
  try {
    for (const r of runs) for (let i = 0; i < WARMUP; i++) r.t.step();
    for (let round = 0; round < ROUNDS; round++) {
      for (const r of runs) {
        const start = performance.now();
        for (let i = 0; i < steps; i++) r.t.step();
        r.best = Math.max(r.best, (BATCH * steps) / ((performance.now() - start) / 1000));
      }
    }
    return runs.map((r) => r.best);
  } finally {
    for (const r of runs) {
      r.t.dispose();
      r.model.dispose();
    }
  }
}

async function profile(spec: Spec, impl: Impl): Promise<void> {
  const model = buildModel(spec, impl);
  const t = trainer(model);
  for (let i = 0; i < WARMUP; i++) t.step();
  const start = performance.now();
  const info = await tf.profile(() => {
    t.step();
  });
  const wall = performance.now() - start;
  const byKernel = new Map<string, { count: number; ms: number }>();
  for (const k of info.kernels) {
    const entry = byKernel.get(k.name) ?? { count: 0, ms: 0 };
    entry.count++;
    entry.ms += typeof k.kernelTimeMs === 'number' ? k.kernelTimeMs : 0;
    byKernel.set(k.name, entry);
  }
  const rows = [...byKernel.entries()].sort((a, b) => b[1].ms - a[1].ms);
  const total = rows.reduce((s, [, e]) => s + e.ms, 0);
  console.log(`\n${impl} ${spec.bidirectional ? 'bi' : ''}${spec.cell}: ${info.kernels.length} kernels, ${total.toFixed(0)} ms in kernels, ${wall.toFixed(0)} ms wall (profiled)`);
  for (const [name, e] of rows.slice(0, 15)) {
    console.log(`  ${name.padEnd(22)} ${String(e.count).padStart(6)}  ${e.ms.toFixed(1).padStart(8)} ms`);
  }
  t.dispose();
  model.dispose();
}

async function main(): Promise<void> {
  const args = process.argv.slice(2);
  let steps = 10;
  let profiling = false;
  let rau = false;
  const names: string[] = [];
  for (let i = 0; i < args.length; i++) {
    const a = args[i]!;
    if (a === '--steps') steps = Number(args[++i]);
    else if (a === '--profile') profiling = true;
    else if (a === '--rau') rau = true;
    else if (a in MODELS) names.push(a);
    else throw new Error(`unknown argument '${a}' (models: ${Object.keys(MODELS).join(', ')})`);
  }
  if (names.length === 0) names.push(...Object.keys(MODELS));
  const info = await selectBackend('wasm');
  console.log(`backend ${info.tfBackend}, batch ${BATCH}, ${STEPS}x${SIZE}, ${LAYERS}x${UNITS}, Adam, best of ${ROUNDS} alternating rounds of ${steps} timed steps after ${WARMUP} warm-up`);

  if (rau) {
    // RAU has no stock tfjs layer to compare with; the question is its cost over the GRU it extends.
    console.log(`\n${'layers'.padEnd(10)} ${'GRU img/s'.padStart(10)} ${'RAU img/s'.padStart(10)} ${'RAU/GRU'.padStart(8)}`);
    for (const bidirectional of [false, true]) {
      const [gru, rauRate] = measureModels(
        [() => buildModel({ cell: 'gru', bidirectional }, 'fused'), () => buildModel({ cell: 'rau', bidirectional }, 'fused')],
        steps,
      );
      const label = `${bidirectional ? 'bi ' : ''}${LAYERS}x${UNITS}`;
      console.log(`${label.padEnd(10)} ${gru!.toFixed(1).padStart(10)} ${rauRate!.toFixed(1).padStart(10)} ${(rauRate! / gru!).toFixed(2).padStart(8)}`);
    }
    return;
  }
  if (profiling) {
    for (const name of names) {
      await profile(MODELS[name]!, 'standard');
      await profile(MODELS[name]!, 'fused');
    }
    return;
  }
  console.log(`\n${'model'.padEnd(8)} ${'standard img/s'.padStart(15)} ${'fused img/s'.padStart(12)} ${'speedup'.padStart(8)}`);
  for (const name of names) {
    const spec = MODELS[name]!;
    const { standard, fused } = measure(spec, steps);
    console.log(
      `${name.padEnd(8)} ${standard.toFixed(1).padStart(15)} ${fused.toFixed(1).padStart(12)} ${(fused / standard).toFixed(2).padStart(7)}x`,
    );
  }
}

await main();
