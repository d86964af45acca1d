/**
 * Phase "agreement": every live cell loads the shared weights (`prepare`), sends its logits on the
 * agreement subset (compared with the float64 reference here) and, if it could not train, is
 * evaluated on them; it also sizes its session for the largest inference batch.
 */
import { join } from 'node:path';
import { numClasses } from '@lenet/model';
import { compareLogits } from '../agreement-reference.js';
import { canWork, failCell, stopIfInterrupted, TIMEOUT, type RunState } from '../state.js';
import { finalEvalImages } from './train.js';

export async function checkAgreement(s: RunState): Promise<void> {
  const c = s.ctx.config;
  const maxBatch = Math.max(...(c.batchSizes ?? [1, 256]));
  for (const l of s.live) {
    if (!canWork(s, l)) continue;
    s.progress?.preparing(l);
    try {
      await l.proc.request(
        {
          type: 'prepare',
          sharedWeights: s.shared ? join(s.ctx.dir, s.shared.info.weightsFile) : null,
          agreementImages: c.agreementImages,
          evaluate: !l.cell.evaluation,
          evalImages: finalEvalImages(s, l),
          maxBatchSize: maxBatch,
        },
        ['prepared'],
        TIMEOUT.prepare,
      );
    } catch (err) {
      await failCell(s, l, err);
      continue;
    }
    if (s.shared && l.agreementLogits) {
      try {
        l.cell.agreement = compareLogits(s.shared, l.agreementLogits.logits, numClasses(c.modelSpec));
      } catch (err) {
        await failCell(s, l, err);
      }
    }
  }
  stopIfInterrupted(s);
}
