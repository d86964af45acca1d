/**
 * The page's side of the cold start (RunOptions.coldStarts): per sample a new iframe of
 * cold-start.html (a fresh document, cold-start.ts), one job, one reply, the iframe removed.
 * Samples of one backend run one after another; the first failure ends that backend's samples.
 */
import { cloneWeights } from '@lenet/model';
import type { PageColdStartSample } from '@lenet/browser-protocol';
import type { ColdStartJob, ColdStartReply } from './cold-start.js';

/** One sample may take this long before it counts as hung (jax-js's WebGPU jit on SwiftShader: tens of seconds). */
const SAMPLE_TIMEOUT_MS = 300_000;

function oneSample(job: ColdStartJob): Promise<PageColdStartSample> {
  return new Promise((resolve, reject) => {
    const frame = document.createElement('iframe');
    frame.className = 'cold-start-frame';
    frame.title = `cold start of ${job.id}`;
    frame.src = `${import.meta.env.BASE_URL}cold-start.html`;
    const finish = () => {
      clearTimeout(timer);
      window.removeEventListener('message', onMessage);
      frame.remove();
    };
    const timer = setTimeout(() => {
      finish();
      reject(new Error(`no answer within ${SAMPLE_TIMEOUT_MS / 1000} s`));
    }, SAMPLE_TIMEOUT_MS);
    const onMessage = (e: MessageEvent<ColdStartReply>) => {
      if (e.source !== frame.contentWindow || e.origin !== location.origin) return;
      if (e.data.type === 'coldStartReady') {
        frame.contentWindow!.postMessage({ type: 'coldStart', job: { ...job, weights: cloneWeights(job.weights) } }, location.origin);
      } else if (e.data.type === 'coldStartDone') {
        finish();
        resolve(e.data.sample);
      } else {
        finish();
        reject(new Error(`${e.data.message} (during ${e.data.phase})`));
      }
    };
    window.addEventListener('message', onMessage);
    document.body.append(frame);
  });
}

/** One backend's cold start: the job every fresh document gets, and how many documents. */
export interface ColdStartInput extends ColdStartJob {
  samples: number;
  onSample?: (done: number) => void;
}

/** `samples` cold starts of one page backend, each in a fresh document. Never throws. */
export async function measurePageColdStarts(input: ColdStartInput): Promise<{ samples: PageColdStartSample[]; error: string | null }> {
  const samples: PageColdStartSample[] = [];
  const { samples: count, onSample, ...job } = input;
  for (let k = 0; k < count; k++) {
    try {
      samples.push(await oneSample(job));
      onSample?.(k + 1);
    } catch (e) {
      return { samples, error: `cold start ${k + 1}: ${e instanceof Error ? e.message : String(e)}` };
    }
  }
  return { samples, error: null };
}

/** Median of a phase over samples (null when no sample has it). */
export function medianOf(values: (number | null)[]): number | null {
  const v = values.filter((x): x is number => x !== null).sort((a, b) => a - b);
  if (!v.length) return null;
  const m = v.length >> 1;
  return v.length % 2 ? v[m]! : (v[m - 1]! + v[m]!) / 2;
}
