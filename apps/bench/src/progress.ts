/**
 * Training progress: a live bar (cli-progress) on a TTY, plain periodic lines otherwise (CI logs),
 * nothing in --json mode. Everything goes to stderr so stdout stays clean for results.
 */
import cliProgress from 'cli-progress';
import type { StepProgress } from '@lenet/core';
import { duration, int } from './format.js';

export interface ProgressReporter {
  step(p: StepProgress): void;
  /** Clears the bar before other output is printed. */
  pause(): void;
  stop(): void;
}

export function createProgress(label: string, mode: 'tty' | 'lines' | 'off', intervalSeconds = 10): ProgressReporter {
  if (mode === 'off') return { step() {}, pause() {}, stop() {} };
  if (mode === 'lines') {
    let last = 0;
    return {
      step(p) {
        const now = performance.now();
        if (now - last < intervalSeconds * 1000 && p.step !== p.stepsPerEpoch) return;
        last = now;
        const ips = p.seconds > 0 ? p.images / p.seconds : 0;
        const eta = ips > 0 ? ((p.stepsPerEpoch - p.step) * (p.images / Math.max(p.step, 1))) / ips : NaN;
        process.stderr.write(
          `${label} epoch ${p.epoch} step ${p.step}/${p.stepsPerEpoch} loss ${p.loss.toFixed(4)} ${int(ips)} img/s epoch ETA ${duration(eta)}\n`,
        );
      },
      pause() {},
      stop() {},
    };
  }
  const bar = new cliProgress.SingleBar(
    {
      format: `${label} epoch {epoch} |{bar}| {value}/{total} steps  loss {loss}  {ips} img/s  ETA {eta_formatted}`,
      hideCursor: true,
      clearOnComplete: true,
      stream: process.stderr,
      etaBuffer: 50,
    },
    cliProgress.Presets.shades_classic,
  );
  let running = false;
  return {
    step(p) {
      const payload = { epoch: p.epoch, loss: p.loss.toFixed(4), ips: int(p.seconds > 0 ? p.images / p.seconds : 0) };
      if (!running) {
        bar.start(p.stepsPerEpoch, p.step, payload);
        running = true;
      } else bar.update(p.step, payload);
    },
    pause() {
      if (running) bar.stop();
      running = false;
    },
    stop() {
      if (running) bar.stop();
      running = false;
    },
  };
}

export function progressMode(json: boolean): 'tty' | 'lines' | 'off' {
  if (json) return 'off';
  return process.stderr.isTTY && !process.env.CI ? 'tty' : 'lines';
}
