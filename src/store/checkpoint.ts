/**
 * Checkpoints in the tfjs layers format (`model.json` + `weights.bin`, loadable by
 * `tf.loadLayersModel` anywhere), plus the optimiser's state and the training position,
 * so a run resumes exactly. tfjs has no `file://` handler without tfjs-node, so both
 * directions go through our own IO handlers. A checkpoint folder is staged completely
 * and then swapped in, so `last/` and `best/` are always whole.
 *
 * `model.json` names only standard layers: xrun's seeded dropout is written as a plain
 * Dropout (the same thing at inference), its batch norm as BatchNormalization (the same
 * weights and maths), its fused recurrent layers as the LSTM, GRU,
 * SimpleRNN (or Bidirectional) layers they compute, with the very same weights. Resuming does not read the topology back; it
 * rebuilds the model from the run's config and loads the weights into it by name.
 */
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { FusedRecurrent, hasStandardLayer, standardLayerConfig } from '../model/fused-recurrent.js';
import { SeededDropout } from '../model/seeded-dropout.js';
import { BroadcastBatchNorm, standardBatchNormConfig } from '../model/batch-norm.js';
import { exactStateOf, restoreExactState, type ExactState } from '../train/optimizer.js';
import type { MetricsRow } from './metrics-row.js';
import { makeStagingDir, recoverDir, replaceDirAtomic } from './atomic.js';

export interface TrainingState {
  /** Last completed epoch. */
  epoch: number;
  /** Training seconds spent up to and including `epoch`. */
  elapsedSeconds: number;
  /** The run's config hash: a checkpoint is only resumed into the same config. */
  hash: string;
  /** The hash without training.epochs: a run continued to more epochs resumes from it too. */
  hashExceptEpochs?: string;
  metrics: MetricsRow;
  /** Best validation accuracy so far; only with a validation split. */
  bestValAccuracy?: number;
}

interface Artifacts {
  files: Record<string, Uint8Array | string>;
}

/** Serialise once; the same bytes may go to both `last/` and `best/`. */
export async function serializeCheckpoint(
  model: tf.LayersModel,
  optimizer: tf.Optimizer,
  state: TrainingState,
): Promise<Artifacts> {
  let saved: tf.io.ModelArtifacts | undefined;
  await model.save(
    tf.io.withSaveHandler(async (artifacts) => {
      saved = artifacts;
      return { modelArtifactsInfo: { dateSaved: new Date(), modelTopologyType: 'JSON' } };
    }),
  );
  const weights = concatWeightData(saved!.weightData);
  const modelJson = {
    format: 'layers-model',
    generatedBy: `TensorFlow.js tfjs-layers v${tf.version_layers}`,
    convertedBy: null,
    modelTopology: portableTopology(saved!.modelTopology),
    weightsManifest: [{ paths: ['weights.bin'], weights: saved!.weightSpecs }],
  };
  const optimizerWeights = await optimizer.getWeights();
  const encoded = await tf.io.encodeWeights(optimizerWeights);
  // getWeights() makes a new scalar for the step count on every call (the rest are the
  // optimiser's own variables): free it, or a long-lived worker leaks one per epoch.
  for (const w of optimizerWeights) if (w.name === 'iter') w.tensor.dispose();
  return {
    files: {
      'model.json': JSON.stringify(modelJson),
      'weights.bin': weights,
      'optimizer.json': JSON.stringify({
        className: optimizer.getClassName(),
        config: optimizer.getConfig(),
        weights: encoded.specs,
        // State that setWeights would only approximate (Adam's beta powers); see train/optimizer.ts.
        exact: exactStateOf(optimizer),
      }),
      'optimizer.bin': concatWeightData(encoded.data),
      'state.json': JSON.stringify(state, null, 2),
    },
  };
}

/** The saved topology with xrun's own layer classes replaced by their standard equivalents. */
function portableTopology(topology: unknown): unknown {
  return JSON.parse(JSON.stringify(topology), (_key, value: unknown) => {
    const layer = value as { class_name?: unknown; config?: Record<string, unknown> } | null;
    if (layer && typeof layer === 'object' && layer.class_name === SeededDropout.className) {
      return { ...layer, class_name: 'Dropout', config: { ...layer.config, noise_shape: null, seed: null } };
    }
    if (layer && typeof layer === 'object' && layer.class_name === BroadcastBatchNorm.className) {
      return { ...layer, ...standardBatchNormConfig(layer.config!) };
    }
    if (layer && typeof layer === 'object' && layer.class_name === FusedRecurrent.className && hasStandardLayer(String(layer.config?.cell))) {
      return { ...layer, ...standardLayerConfig(layer.config!) };
    }
    return value;
  });
}

function concatWeightData(data: tf.io.WeightData | undefined): Uint8Array {
  if (data === undefined) return new Uint8Array(0);
  const buffers = Array.isArray(data) ? data : [data];
  return new Uint8Array(tf.io.concatenateArrayBuffers(buffers));
}

export async function writeCheckpoint(dir: string, artifacts: Artifacts): Promise<void> {
  await mkdir(join(dir, '..'), { recursive: true });
  const staged = await makeStagingDir(dir);
  for (const [name, data] of Object.entries(artifacts.files)) await writeFile(join(staged, name), data);
  await replaceDirAtomic(staged, dir);
}

export interface LoadedCheckpoint {
  state: TrainingState;
  /** Loads the saved weights, by name, into a model built from the same config. */
  restoreWeights(model: tf.LayersModel): void;
  /** Restores the optimiser's moments and step count into a fresh optimiser of the same kind. */
  restoreOptimizer(optimizer: tf.Optimizer): Promise<void>;
}

/** Reads a checkpoint folder; a missing or damaged one gives `undefined`, never half a state. */
export async function readCheckpoint(dir: string): Promise<LoadedCheckpoint | undefined> {
  await recoverDir(dir);
  let modelJson: { weightsManifest: tf.io.WeightsManifestConfig };
  let state: TrainingState;
  let weights: Uint8Array;
  let optimizerJson: { weights: tf.io.WeightsManifestEntry[]; exact?: ExactState };
  let optimizerBin: Uint8Array;
  try {
    modelJson = JSON.parse(await readFile(join(dir, 'model.json'), 'utf8'));
    state = JSON.parse(await readFile(join(dir, 'state.json'), 'utf8'));
    weights = await readFile(join(dir, 'weights.bin'));
    optimizerJson = JSON.parse(await readFile(join(dir, 'optimizer.json'), 'utf8'));
    optimizerBin = await readFile(join(dir, 'optimizer.bin'));
  } catch {
    return undefined;
  }
  // Staged writes make a torn checkpoint unlikely, but a damaged disk or a hand edit
  // must not resume into garbage: the byte counts have to match their manifests.
  const modelSpecs = modelJson.weightsManifest.flatMap((g) => g.weights);
  if (weights.byteLength !== byteLength(modelSpecs) || optimizerBin.byteLength !== byteLength(optimizerJson.weights)) {
    return undefined;
  }
  return {
    state,
    restoreWeights(model) {
      const map = tf.io.decodeWeights(toArrayBuffer(weights), modelSpecs);
      try {
        model.loadWeights(map, true);
      } finally {
        tf.dispose(Object.values(map));
      }
    },
    async restoreOptimizer(optimizer) {
      const map = tf.io.decodeWeights(toArrayBuffer(optimizerBin), optimizerJson.weights);
      try {
        await optimizer.setWeights(optimizerJson.weights.map((spec) => ({ name: spec.name, tensor: map[spec.name]! })));
      } finally {
        // setWeights copies the moments into variables of its own and only reads the step count.
        tf.dispose(Object.values(map));
      }
      restoreExactState(optimizer, optimizerJson.exact);
    },
  };
}

function byteLength(specs: tf.io.WeightsManifestEntry[]): number {
  return specs.reduce((sum, s) => sum + s.shape.reduce((n, d) => n * d, 1) * (s.dtype === 'bool' ? 1 : 4), 0);
}

function toArrayBuffer(bytes: Uint8Array): ArrayBuffer {
  return bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength) as ArrayBuffer;
}

/** Loads `model.json` + its weight files from a folder: the project's own `file://` loader. */
export async function loadLayersModelFromFolder(
  dir: string,
  preloaded?: { modelJson: { modelTopology: unknown; weightsManifest: tf.io.WeightsManifestConfig }; weights?: Uint8Array },
): Promise<tf.LayersModel> {
  // A script that only imports this function has not waited for a backend; do it here.
  await tf.ready();
  const modelJson = preloaded?.modelJson ?? JSON.parse(await readFile(join(dir, 'model.json'), 'utf8'));
  const specs = modelJson.weightsManifest.flatMap((g: tf.io.WeightsManifestConfig[number]) => g.weights);
  const parts =
    preloaded?.weights !== undefined
      ? [preloaded.weights]
      : await Promise.all(
          modelJson.weightsManifest.flatMap((g: tf.io.WeightsManifestConfig[number]) => g.paths).map((p: string) => readFile(join(dir, p))),
        );
  const weightData = tf.io.concatenateArrayBuffers(parts.map((p: Uint8Array) => toArrayBuffer(p)));
  return tf.loadLayersModel(
    tf.io.fromMemory({ modelTopology: modelJson.modelTopology as object, weightSpecs: specs, weightData }),
  );
}
