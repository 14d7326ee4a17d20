export const MAIN_HELP = `xrun: run deep-learning experiments declared in one YAML file

Usage:
  xrun <experiment.yaml> [options]        same as: xrun run <experiment.yaml>
  xrun run <experiment.yaml> [options]    train every run of the grid
  xrun validate <experiment.yaml>         check the file (and every sweep cell) against the schema
  xrun plan <experiment.yaml>             list the runs the grid expands to, and what a run would do
  xrun status <experiment.yaml | dir>     runs with status, epochs done, best test accuracy, time
  xrun diff <a> <b>                       compare two runs (folders or metrics.csv files)
  xrun compare <dir | run>...             one table across experiments and runs, grouped by any config path
  xrun report <dir>...                    write report.html (tables, curves, confusion matrices) for experiments
  xrun doctor                             which backends load, which GPU adapters exist, what auto picks
  xrun worker --redis <url>               train runs queued with --executor queue, on any machine

Run "xrun <command> --help" for a command's options.
Exit codes: 0 ok, 1 a run failed, 2 bad input (nothing written), 130/143 interrupted.`;

const SET = `  --set path=value     override a config value (repeatable), e.g. --set training.epochs=1
                       --set dataset.subset.train=500 --set sweep.model=[cnn,lstm]`;

export const RUN_HELP = `Usage: xrun run <experiment.yaml> [options]

Trains every run of the experiment's grid into <output>/<run-id>/. Runs that already
completed with the same config are skipped; interrupted runs resume from their last
checkpoint; a run folder holding a different config stops xrun unless --force.

Options:
${SET}
  --backend <name>     auto | tensorflow-gpu | webgpu | tensorflow | wasm | cpu (overrides runtime.backend)
  -j, --jobs <n>       train up to n runs at once, one process each (default: runtime.jobs or 1)
  --gpus <ids>         spread the workers over these GPUs, round robin, e.g. --gpus 0,1 --jobs 8
                       (webgpu: adapter indexes from xrun doctor; tensorflow-gpu: CUDA ids)
  --only <glob>        only runs whose id matches (repeatable; one pattern or exact id each,
                       never split at commas), e.g. --only 'model=*lstm*' --only 'model=gru,batchSize=32'
  --exclude <glob>     skip runs whose id matches (repeatable)
  --failed             retry only runs whose last attempt failed
  --force              rerun even completed runs, replacing their folders
  --lock-seconds <s>   lease of each run's lock (default 60): another host takes over a
                       run whose holder stopped renewing for this long
  --plain              plain progress lines even on a terminal
  --executor <e>       local | slurm | queue (default: runtime.executor or local)
                       slurm: submit the pending runs as one sbatch job array (runtime.slurm)
                       queue: put them on a Redis queue for \`xrun worker\` processes
  --redis <url>        the queue's Redis, e.g. redis://host:6379 (or runtime.queue.redis)
  --queue <name>       queue name (default: runtime.queue.name or xrun)
  --wait               slurm/queue: wait for the runs, then write the summary
  -h, --help           this help`;

export const WORKER_HELP = `Usage: xrun worker --redis <url> [options]

Trains runs queued by \`xrun run <exp> --executor queue\`, each in its own process, until
stopped. Needs the experiment's output folder at the same path as the submitter (a shared
filesystem). Ctrl-C or SIGTERM hands the runs in progress back to the queue after their
current batch; a worker killed outright is replaced after --lock-seconds, and its run
resumes from its last checkpoint.

Options:
  --redis <url>        Redis URL, e.g. redis://host:6379 (or XRUN_REDIS)
  --queue <name>       queue to serve (default xrun)
  -j, --jobs <n>       train up to n runs at once (default 1)
  --gpus <ids>         pin run slots to GPUs, e.g. --gpus 0,1
  --lock-seconds <s>   how long a job stays claimed without renewal (default 30)
  -h, --help           this help`;

export const VALIDATE_HELP = `Usage: xrun validate <experiment.yaml> [--set path=value]...

Checks the file against schemas/experiment.schema.json and every expanded sweep cell,
printing file:line:col for each problem. Exit code 0 when valid, 2 otherwise.

Options:
${SET}`;

export const PLAN_HELP = `Usage: xrun plan <experiment.yaml> [options]

Lists the runs the sweep expands to: run id, what xrun would do with it (new, skip,
resume, conflict) and the sweep values that differ between runs.

Options:
${SET}
  --format <f>         table | json | csv | md (default table); json also gives the output folder`;

export const STATUS_HELP = `Usage: xrun status <experiment.yaml | output-dir> [--format table|json|csv|md]

A table of the runs found: status, epochs done, best and last test accuracy, training time.
Every run folder of the experiment is listed, and planned runs not started yet as 'not run'.

Options:
  --format <f>         table | json | csv | md (default table); json and csv keep raw numbers`;

export const DIFF_HELP = `Usage: xrun diff <a> <b> [options]

Compares two runs: the config values that differ, then per epoch each metric of both
runs and the delta (b - a). a and b are run folders or metrics.csv files.

Options:
  --format <f>         table | csv | json | md (default: table)
  --metrics <list>     metrics to compare, e.g. --metrics test_accuracy,test_loss`;

export const COMPARE_HELP = `Usage: xrun compare <experiment-dir | run-dir | experiment.yaml>... [options]

One table of the runs found in the given experiment and run folders: sweep values,
status, final and best test accuracy, test loss, time, backend. Grouped, one row per
group with n and mean ± std of each metric over the runs in it.

Options:
  --by <path>          group by a sweep axis or config path (repeatable or a,b), e.g.
                       --by model --by training.learningRate --by models.*.hidden
  --over <axis>        group by every sweep axis except these, e.g. --over seed
                       (mean ± std over seeds, one row per configuration)
  --format <f>         table | csv | json | md (default: table)`;

export const REPORT_HELP = `Usage: xrun report <experiment-dir | experiment.yaml>... [--out file.html]

Writes a self-contained report.html (data, vega and its scripts inlined; opens from
disk with no network): the results table (sortable, filterable, grouped mean ± std),
learning curves of picked runs, accuracy against time, each axis' effect, confusion
matrices, config differences and the backend and machine of each run. Works on
experiments still running or interrupted. xrun run writes one at the end of every run.

Options:
  -o, --out <file>     where to write (default: <experiment-dir>/report.html for one
                       experiment, ./report.html for several)`;

export const DOCTOR_HELP = `Usage: xrun doctor [--format table|csv|json|md]

Loads every backend (tensorflow-gpu, webgpu, tensorflow, wasm, cpu: the order auto tries
them) and runs a small computation on each; lists the GPU adapters Dawn finds, hardware
or software, with the indexes --gpus takes; says which backend auto picks and why it
skipped the others, and for each backend that does not work, what to install.
Exit code 0 when at least one backend works.`;
