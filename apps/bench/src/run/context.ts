/** What a `lenet-bench run` invocation is given (commands/run.ts builds it): the folder, the settings, the data. */
import type { ImageSplit } from '@lenet/datasets';
import type { Environment, Report, RunConfig } from './types.js';

export interface RunContext {
  dir: string;
  config: RunConfig;
  environment: Environment;
  tool: { name: string; version: string };
  createdAt: string;
  /** Wall seconds of earlier invocations (resume). */
  priorWallSeconds: number;
  notes: string[];
  train: ImageSplit;
  test: ImageSplit;
  dataDir?: string;
  json: boolean;
  progress: 'tty' | 'lines' | 'off';
  /** Per-cell wall-clock limit; a cell that exceeds it is killed and gets an error row. */
  cellTimeoutSeconds: number;
  /** Noise samples and peaks of earlier invocations (resume). */
  priorNoise?: Report['noise'];
  priorPeaks?: Report['peaks'];
}
