/**
 * The body of a plain-session worker thread, shared by Node's worker_threads (worker.ts) and
 * browsers' Web Workers (worker.browser.ts): builds its own engine (JS or WebAssembly kernels)
 * over the shared parameter and I/O buffers, signals ready, then serves commands posted through
 * the control buffer with Atomics.wait/notify until told to exit (or terminated). It never
 * returns to the event loop while serving, so it must run on a thread allowed to block.
 */
import { buildPlan } from './plan.js';
import { Engine } from './engine.js';
import { jsKernels, type Kernels } from './kernels.js';
import { instantiateWasm } from './wasm.js';
import { CHUNK, Cmd, Ctl, ERROR_TEXT_OFFSET, CONTROL_BYTES, Runner } from './runner.js';
import type { WorkerInit } from './worker-types.js';

export function serveWorker(init: WorkerInit, ready: () => void): void {
  const plan = buildPlan(init.spec, CHUNK);
  let engine: Engine<Float32Array>;
  if (init.module) {
    const { kernels, mem } = instantiateWasm(init.module, plan.arena.size);
    engine = new Engine(plan, kernels, mem);
  } else {
    engine = new Engine(plan, jsKernels as Kernels<Float32Array>, new Float32Array(plan.arena.size));
  }
  const runner = new Runner(engine, init.control, init.params, init.io, init.optimizer);
  const ctrl = runner.ctrl;
  const errorText = new Uint8Array(init.control, ERROR_TEXT_OFFSET, CONTROL_BYTES - ERROR_TEXT_OFFSET);

  let seen = Atomics.load(ctrl, Ctl.Gen);
  ready();
  for (;;) {
    Atomics.wait(ctrl, Ctl.Gen, seen);
    const gen = Atomics.load(ctrl, Ctl.Gen);
    if (gen === seen) continue;
    seen = gen;
    const cmd = Atomics.load(ctrl, Ctl.Cmd) as Cmd;
    if (cmd === Cmd.Exit) break;
    try {
      runner.exec(cmd, Atomics.load(ctrl, Ctl.N));
    } catch (e) {
      if (Atomics.compareExchange(ctrl, Ctl.Error, 0, init.index + 1) === 0) {
        const msg = new TextEncoder().encode(`worker ${init.index}: ${(e as Error)?.stack ?? String(e)}`);
        const len = Math.min(msg.length, errorText.length);
        errorText.set(msg.subarray(0, len));
        Atomics.store(ctrl, Ctl.ErrorLen, len);
      }
    }
    Atomics.add(ctrl, Ctl.Done, 1);
    Atomics.notify(ctrl, Ctl.Done);
  }
}
