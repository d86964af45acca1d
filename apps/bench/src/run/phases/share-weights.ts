/**
 * Phase "share weights": the first backend in run order that trained gives the shared weights,
 * and their float64 reference logits on the agreement subset (agreement-reference.ts). Kept from
 * an earlier invocation on resume.
 */
import { join } from 'node:path';
import { computeAgreementReference } from '../agreement-reference.js';
import { saveRunning, type RunState } from '../state.js';

export async function shareWeights(s: RunState): Promise<void> {
  if (!s.shared) {
    const first = s.ctx.config.backends.map((b) => s.cells.get(b)).find((x) => x?.status === 'ok' && x.training?.weightsFile);
    if (first) s.shared = await computeAgreementReference(s.ctx, join(s.ctx.dir, first.training!.weightsFile!), `final weights of ${first.backend} (the first backend in run order that trained)`);
  }
  await saveRunning(s);
}
