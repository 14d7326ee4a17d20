/**
 * Do this machine's cores scale for wasm training kernels? A fixed number of wasm matrix
 * products (the XNNPACK kernel a Dense or recurrent layer runs, 64x256 by 256x512) timed
 * in one process alone, then in two processes side by side.
 *
 *   npx tsx bench/cores.ts [--iterations 4000 --repeat 3 --kernel matmul|int]
 *
 * `--kernel int` runs a register-only integer loop instead (xorshift, no memory traffic):
 * the control. If it scales and the matrix products do not, the cores are there but share
 * caches or memory bandwidth.
 *
 * Each round times one alone, then two together; the slower of the two counts, since a
 * pair of runs ends when its slower one does. Rounds repeat because a shared VM's speed
 * drifts by ±10% from minute to minute; the median ratio is the answer.
 *
 * A ratio near 1.0 means the two cores give two cores' worth of this work, so anything
 * `--jobs 2` loses beyond that (see `npm run bench:jobs`) is CPU spent beside the kernels:
 * tfjs's JavaScript, V8's compiler and GC threads, the parent's figures. The loop keeps
 * JavaScript to a minimum on purpose (one output tensor a product, read once, freed).
 */
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';

const { values } = parseArgs({
  options: {
    iterations: { type: 'string', default: '4000' },
    repeat: { type: 'string', default: '3' },
    kernel: { type: 'string', default: 'matmul' },
    child: { type: 'boolean', default: false },
  },
});
const iterations = Number(values.iterations);
if (values.kernel !== 'matmul' && values.kernel !== 'int') {
  console.error(`bench/cores.ts: --kernel is matmul or int (got ${values.kernel})`);
  process.exit(2);
}

/** xorshift32, 250,000 steps per iteration: about as long as the matrix products, all in registers. */
function integerLoop(): void {
  let x = 2463534242;
  const started = performance.now();
  for (let i = 0; i < iterations * 250_000; i++) {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
  }
  console.log(((performance.now() - started) / 1000).toFixed(3));
  // The result is used, so the loop cannot be optimised away.
  if (x === 0) console.error('xorshift reached 0');
}

async function loop(): Promise<void> {
  const tf = await import('@tensorflow/tfjs-core');
  await import('@tensorflow/tfjs-backend-wasm');
  await tf.setBackend('wasm');
  const a = tf.randomNormal([64, 256]);
  const b = tf.randomNormal([256, 512]);
  const once = () => {
    const c = tf.matMul(a, b);
    c.dataSync();
    c.dispose();
  };
  for (let i = 0; i < 200; i++) once(); // warm-up: wasm tier-up and JIT
  const started = performance.now();
  for (let i = 0; i < iterations; i++) once();
  console.log(((performance.now() - started) / 1000).toFixed(3));
}

function child(): Promise<number> {
  const self = fileURLToPath(import.meta.url);
  return new Promise((resolve, reject) => {
    const args = [...process.execArgv, self, '--child', '--iterations', String(iterations), '--kernel', values.kernel!];
    const p = spawn(process.execPath, args, {
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    let out = '';
    p.stdout.on('data', (d: Buffer) => (out += d.toString()));
    p.on('exit', (code) => (code === 0 ? resolve(Number(out.trim())) : reject(new Error(`bench child exited with ${code}`))));
  });
}

const what = values.kernel === 'int' ? `${iterations * 250_000} integer xorshift steps` : `${iterations} wasm matrix products (64x256 by 256x512)`;

if (values.child) {
  if (values.kernel === 'int') integerLoop();
  else await loop();
} else {
  const rounds: { alone: number; pair: number[]; ratio: number }[] = [];
  for (let n = 0; n < Number(values.repeat); n++) {
    const alone = await child();
    const pair = await Promise.all([child(), child()]);
    const ratio = Math.max(...pair) / alone;
    rounds.push({ alone, pair, ratio });
    console.log(
      `${what}: alone ${alone.toFixed(2)} s; ` +
        `two side by side ${pair.map((s) => s.toFixed(2)).join(' s and ')} s; ratio ${ratio.toFixed(3)}`,
    );
  }
  const sorted = rounds.map((r) => r.ratio).sort((a, b) => a - b);
  const median = sorted[Math.floor(sorted.length / 2)]!;
  console.log(`side by side / alone, median of ${rounds.length}: ${median.toFixed(3)} (1.0: the cores scale for this work)`);
  console.log(JSON.stringify({ kernel: values.kernel, iterations, rounds, median }));
}
