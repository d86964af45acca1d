/**
 * A cell's process as the runner sees it: send one command, wait for the answer. The process is
 * started and watched by the supervisor (process/supervisor.ts): Node backends are forked (IPC
 * messages); the PyTorch reference is a Python process that reads one JSON command per stdin line
 * and writes one JSON message per stdout line. Both speak ParentCommand / ChildMessage (types.ts).
 * Every other message (progress, results) goes to `onMessage`.
 */
import { createWriteStream, type WriteStream } from 'node:fs';
import { SupervisedProcess, type ChildExit, type SuperviseOptions } from '../process/supervisor.js';
import type { ChildMessage, ParentCommand, Phase } from './types.js';

export class CellProcessError extends Error {
  override name = 'CellProcessError';
  constructor(
    message: string,
    readonly phase: Phase,
  ) {
    super(message);
  }
}

type Waiter = { types: ChildMessage['type'][]; resolve: (m: ChildMessage) => void; reject: (e: Error) => void; cancelTimeout: () => void };

export class CellProcess {
  readonly exited: Promise<ChildExit>;
  phase: Phase = 'start';
  killedByUs = false;
  private waiter: Waiter | null = null;
  private failure: CellProcessError | null = null;
  private readonly process: SupervisedProcess;

  private constructor(
    readonly kind: 'backend' | 'reference',
    private readonly log: WriteStream,
    start: (opts: SuperviseOptions) => SupervisedProcess,
    private readonly onMessage: (m: ChildMessage) => void,
  ) {
    this.process = start({ log, onMessage: (m) => this.receive(m as ChildMessage) });
    this.exited = this.process.exited.then((exit) => {
      this.fail(this.failure ?? new CellProcessError(this.exitMessage(exit), this.phase));
      return exit;
    });
  }

  private static openLog(logPath: string, label: string): WriteStream {
    const log = createWriteStream(logPath, { flags: 'a' });
    log.write(`--- ${new Date().toISOString()} ${label}\n`);
    return log;
  }

  static fork(script: string, logPath: string, label: string, onMessage: (m: ChildMessage) => void): CellProcess {
    return new CellProcess('backend', CellProcess.openLog(logPath, label), (opts) => SupervisedProcess.fork(script, opts), onMessage);
  }

  static python(executable: string, args: string[], logPath: string, label: string, onMessage: (m: ChildMessage) => void, env?: Record<string, string> | null): CellProcess {
    return new CellProcess('reference', CellProcess.openLog(logPath, label), (opts) => SupervisedProcess.jsonLines(executable, args, { ...opts, env, stdin: true }), onMessage);
  }

  /** The row's error text for a process that ended before it answered. */
  private exitMessage(exit: ChildExit): string {
    const what = this.kind === 'reference' ? 'Python' : 'backend';
    const lines = this.process.stderrTail(3);
    const tail = lines.length ? `; last output: ${lines.join(' | ')}` : '';
    switch (exit.kind) {
      case 'spawn-error':
        return `could not start the process: ${exit.message}`;
      case 'aborted':
      case 'timeout':
        return `the ${what} process was killed by SIGKILL during ${this.phase}`;
      case 'signal':
        return `the ${what} process was killed by ${exit.signal} during ${this.phase}`;
      case 'exit-code':
        return `the ${what} process exited with code ${exit.code} during ${this.phase} without a result${tail}`;
      case 'ok':
        return `the ${what} process exited with code 0 during ${this.phase} without a result${tail}`;
    }
  }

  private receive(m: ChildMessage): void {
    if (m.type === 'phase') this.phase = m.phase;
    if (m.type === 'error') {
      this.failure = new CellProcessError(m.message, m.phase);
      this.onMessage(m);
      this.fail(this.failure);
      return;
    }
    this.onMessage(m);
    if (this.waiter && this.waiter.types.includes(m.type)) {
      const w = this.waiter;
      this.waiter = null;
      w.cancelTimeout();
      w.resolve(m);
    }
  }

  private fail(err: CellProcessError): void {
    this.failure ??= err;
    if (this.waiter) {
      const w = this.waiter;
      this.waiter = null;
      w.cancelTimeout();
      w.reject(this.failure);
    }
  }

  get failed(): CellProcessError | null {
    return this.failure;
  }

  /** Sends `command` and resolves with the first message of one of `until`'s types. */
  request(command: ParentCommand, until: ChildMessage['type'][], timeoutSeconds: number): Promise<ChildMessage> {
    if (this.failure) return Promise.reject(this.failure);
    return new Promise((resolve, reject) => {
      const cancelTimeout = this.process.timeoutAfter(timeoutSeconds, () =>
        this.fail(new CellProcessError(`timed out after ${Math.round(timeoutSeconds)} s waiting for ${until.join('/')} (killed)`, this.phase)),
      );
      this.waiter = { types: until, resolve, reject, cancelTimeout };
      this.send(command);
    });
  }

  send(command: ParentCommand): void {
    this.process.send(command);
  }

  kill(): void {
    this.killedByUs = true;
    this.process.kill();
  }

  /** Asks the process to exit, and kills it if it has not after `graceSeconds`. */
  async close(graceSeconds = 10): Promise<void> {
    if (this.process.running) {
      this.send({ type: 'exit' });
      const cancel = this.process.killAfter(graceSeconds);
      await this.exited;
      cancel();
    }
    await new Promise<void>((resolve) => this.log.end(resolve));
  }
}
