import { describe, expect, it } from 'vitest';
import { runPool } from '../src/runner/pool.js';
import { workerEnv } from '../src/runner/run-experiment.js';
import { globToRegExp, matchesAny } from '../src/util/glob.js';

describe('worker slots', () => {
  it('--gpus pins each slot to one GPU, round robin: a CUDA id for tfjs-node-gpu, an adapter index for webgpu', () => {
    const env = { PATH: '/bin' };
    expect(workerEnv(0, ['0', '1'], env)).toEqual({ PATH: '/bin', CUDA_VISIBLE_DEVICES: '0', XRUN_GPU: '0' });
    expect(workerEnv(1, ['0', '1'], env).CUDA_VISIBLE_DEVICES).toBe('1');
    expect(workerEnv(2, ['0', '1'], env).CUDA_VISIBLE_DEVICES).toBe('0');
    // --gpus 0,1 --jobs 8: four workers on each GPU.
    expect(Array.from({ length: 8 }, (_, lane) => workerEnv(lane, ['0', '1'], env).XRUN_GPU)).toEqual(['0', '1', '0', '1', '0', '1', '0', '1']);
    expect(workerEnv(1, [], env)).toBe(env);
    expect(workerEnv(1, undefined, env)).toBe(env);
  });

  it('the pool keeps at most `limit` items in flight, in list order, and stops taking new ones on request', async () => {
    let inFlight = 0;
    let peak = 0;
    const started: number[] = [];
    const lanes = new Set<number>();
    await runPool(
      [1, 2, 3, 4, 5],
      2,
      async (item, lane) => {
        started.push(item);
        lanes.add(lane);
        peak = Math.max(peak, ++inFlight);
        await new Promise((r) => setTimeout(r, 5));
        inFlight--;
      },
      () => false,
    );
    expect(peak).toBe(2);
    expect(started).toEqual([1, 2, 3, 4, 5]);
    expect([...lanes].sort()).toEqual([0, 1]);

    const done: number[] = [];
    await runPool([1, 2, 3, 4], 1, async (item) => void done.push(item), () => done.length >= 2);
    expect(done).toEqual([1, 2]);
  });

  it('a lane that throws stops the others taking new items, and the pool settles only after every lane', async () => {
    const started: number[] = [];
    let finishedSlow = false;
    const pool = runPool(
      [1, 2, 3, 4, 5, 6],
      2,
      async (item) => {
        started.push(item);
        if (item === 1) throw new Error('lane broke');
        await new Promise((r) => setTimeout(r, 30));
        if (item === 2) finishedSlow = true;
      },
      () => false,
    );
    await expect(pool).rejects.toThrow('lane broke');
    // The other lane finished its item in hand before the pool settled, and took no more.
    expect(finishedSlow).toBe(true);
    expect(started).toEqual([1, 2]);
  });
});

describe('run selection globs', () => {
  it('match whole run ids with * and ?', () => {
    expect(matchesAny('model=lstm,hidden=64', ['model=lstm*'])).toBe(true);
    expect(matchesAny('model=bilstm', ['model=lstm*'])).toBe(false);
    expect(matchesAny('model=bilstm', ['*lstm*'])).toBe(true);
    expect(globToRegExp('seed=?').test('seed=1')).toBe(true);
    expect(globToRegExp('lr=0.1').test('lr=0x1')).toBe(false);
  });
});
