// The library surface: what the CLI uses, for scripts and notebooks that drive xrun directly.
export { loadPlan, type ExperimentPlan, type PlannedRun, type LoadOptions } from './config/load.js';
export { validateExperiment, type Problem } from './config/validate.js';
export { ExperimentSchema, experimentJsonSchema, type Experiment } from './config/schema.js';
export { configHash, resolveRunConfig, type RunConfig } from './config/resolve.js';
export { expandGrid, type Grid, type GridCell } from './grid/expand.js';
export { readIdxFile, parseIdx } from './data/idx.js';
export { loadDataset, type LoadedDataset } from './data/datasets.js';
export { buildModel } from './model/build.js';
export { parameterCount, modelLayers } from './model/build.js';
export { inferShapes, presetLayers, type ResolvedLayer, type NamedLayer } from './config/layers.js';
export { selectBackend, type BackendInfo } from './train/backend.js';
export { train, evaluate, type TrainHooks } from './train/trainer.js';
export { loadLayersModelFromFolder, readCheckpoint } from './store/checkpoint.js';
export { RunDir, type RunRecord, type RunStatus } from './store/run-dir.js';
export { runExperiment, type ExperimentResult } from './runner/run-experiment.js';
export { diffConfigs, diffMetrics, formatDiff } from './report/diff.js';
export * from './errors.js';
