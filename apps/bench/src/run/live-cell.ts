/** A cell of the run while its process lives: the process, the row being filled, and the training/inference tallies. */
import type { CellProcess } from './cell-process.js';
import type { BackendResult, ChildJob, InferenceWindow } from './types.js';

export interface LiveCell {
  id: string;
  job: ChildJob;
  proc: CellProcess;
  cell: BackendResult;
  /** performance.now() when the cell started. */
  t0: number;
  canTrain: boolean;
  /** Training seconds granted and used so far. */
  trained: number;
  images: number;
  /** The same without the first (warm-up) window. */
  warmSeconds: number;
  warmImages: number;
  windows: number;
  /** This cell's training budget (seconds), null = none. */
  budget: number | null;
  budgetReason: string | null;
  /** Whether the recipe-time projection (maxProjectedSeconds) has been made. */
  projectionChecked: boolean;
  reachedTarget: boolean;
  torchDir: string | null;
  inferWindows: InferenceWindow[];
  samples: Map<number, number[]>;
  agreementLogits: { logits: number[]; weightsFile: string } | null;
}
