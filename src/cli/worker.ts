import { DEFAULT_QUEUE } from '../launch/queue.js';
import { runQueueWorker } from '../launch/queue-worker.js';
import { UsageError } from '../errors.js';
import { list, parse, positiveInt } from './args.js';
import { WORKER_HELP } from './help.js';

export async function workerCommand(argv: string[]): Promise<number> {
  const { values, positionals } = parse(
    argv,
    { redis: { type: 'string' }, queue: { type: 'string' }, jobs: { type: 'string', short: 'j' }, gpus: { type: 'string' }, 'lock-seconds': { type: 'string' } },
    WORKER_HELP,
  );
  if (values.help) {
    console.log(WORKER_HELP);
    return 0;
  }
  if (positionals.length > 0) throw new UsageError(`xrun worker takes no file (runs come from the queue), got '${positionals[0]}'`, { hint: WORKER_HELP });
  const redis = values.redis ?? process.env.XRUN_REDIS;
  if (!redis) throw new UsageError('xrun worker needs --redis redis://HOST:PORT', { hint: WORKER_HELP });
  if (!/^rediss?:\/\//.test(redis)) throw new UsageError(`--redis must be a redis:// URL, got '${redis}'`);
  return runQueueWorker({
    redis,
    queue: values.queue ?? DEFAULT_QUEUE,
    jobs: positiveInt(values.jobs, '--jobs', 1),
    gpus: list(values.gpus),
    lockSeconds: positiveInt(values['lock-seconds'], '--lock-seconds', 30),
    say: (line) => console.log(line),
  });
}
