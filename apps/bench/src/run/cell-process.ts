/**
 * A cell's process as the runner sees it: send one command, wait for the answer. Node backends
 * are forked (IPC messages); the PyTorch reference is a Python process that reads one JSON
 * command per stdin line and writes one JSON message per stdout line. Both speak ParentCommand /
 * ChildMessage (types.ts). Every other message (progress, results) goes to `onMessage`.
 */
import { fork, spawn, type ChildProcess } from 'node:child_process';
import { createWriteStream, type WriteStream } from 'node:fs';
import { childExecArgv } from './node-runtime.js';
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

type Waiter = { types: ChildMessage['type'][]; resolve: (m: ChildMessage) => void; reject: (e: Error) => void; timer: NodeJS.Timeout };

export class CellProcess {
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  phase: Phase = 'start';
  killedByUs = false;
  private waiter: Waiter | null = null;
  private failure: CellProcessError | null = null;
  private readonly stderrTail: string[] = [];
  private readonly log: WriteStream;

  constructor(
    private readonly child: ChildProcess,
    readonly kind: 'backend' | 'reference',
    logPath: string,
    label: string,
    private readonly onMessage: (m: ChildMessage) => void,
  ) {
    this.log = createWriteStream(logPath, { flags: 'a' });
    this.log.write(`--- ${new Date().toISOString()} ${label}\n`);
    child.stderr?.on('data', (chunk: Buffer) => {
      const text = chunk.toString();
      this.log.write(text);
      for (const line of text.split('\n')) if (line.trim()) this.stderrTail.push(line.trim());
      if (this.stderrTail.length > 20) this.stderrTail.splice(0, this.stderrTail.length - 20);
    });
    if (kind === 'reference') {
      let buffered = '';
      child.stdout?.on('data', (chunk: Buffer) => {
        buffered += chunk.toString();
        let nl: number;
        while ((nl = buffered.indexOf('\n')) >= 0) {
          const line = buffered.slice(0, nl).trim();
          buffered = buffered.slice(nl + 1);
          if (!line) continue;
          let m: ChildMessage;
          try {
            m = JSON.parse(line) as ChildMessage;
          } catch {
            this.log.write(`(stdout) ${line}\n`);
            continue;
          }
          this.receive(m);
        }
      });
    } else {
      child.stdout?.on('data', (chunk: Buffer) => this.log.write(chunk));
      child.on('message', (m) => this.receive(m as ChildMessage));
    }
    this.exited = new Promise((resolve) => {
      child.once('exit', (code, signal) => {
        const what = this.kind === 'reference' ? 'Python' : 'backend';
        const tail = this.stderrTail.length ? `; last output: ${this.stderrTail.slice(-3).join(' | ')}` : '';
        const message = signal
          ? `the ${what} process was killed by ${signal} during ${this.phase}`
          : `the ${what} process exited with code ${code} during ${this.phase} without a result${tail}`;
        this.fail(this.failure ?? new CellProcessError(message, this.phase));
        resolve({ code, signal });
      });
      child.once('error', (err) => {
        this.stderrTail.push(err.message);
        this.fail(new CellProcessError(`could not start the process: ${err.message}`, this.phase));
        resolve({ code: -1, signal: null });
      });
    });
  }

  static fork(script: string, logPath: string, label: string, onMessage: (m: ChildMessage) => void): CellProcess {
    // childExecArgv: on Node 20, the V8 flag that turns on WebAssembly relaxed SIMD (plain's FMA tier).
    const child = fork(script, [], { stdio: ['ignore', 'pipe', 'pipe', 'ipc'], serialization: 'advanced', execArgv: childExecArgv() });
    return new CellProcess(child, 'backend', logPath, label, onMessage);
  }

  static python(executable: string, args: string[], logPath: string, label: string, onMessage: (m: ChildMessage) => void, env?: Record<string, string> | null): CellProcess {
    const child = spawn(executable, args, { stdio: ['pipe', 'pipe', 'pipe'], env: { ...process.env, ...(env ?? {}) } });
    return new CellProcess(child, 'reference', logPath, label, onMessage);
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
      clearTimeout(w.timer);
      w.resolve(m);
    }
  }

  private fail(err: CellProcessError): void {
    this.failure ??= err;
    if (this.waiter) {
      const w = this.waiter;
      this.waiter = null;
      clearTimeout(w.timer);
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
      const timer = setTimeout(() => {
        this.fail(new CellProcessError(`timed out after ${Math.round(timeoutSeconds)} s waiting for ${until.join('/')} (killed)`, this.phase));
        this.child.kill('SIGKILL');
      }, timeoutSeconds * 1000);
      timer.unref();
      this.waiter = { types: until, resolve, reject, timer };
      this.send(command);
    });
  }

  send(command: ParentCommand): void {
    if (this.kind === 'reference') this.child.stdin?.write(JSON.stringify(command) + '\n');
    else if (this.child.connected) this.child.send(command);
  }

  kill(): void {
    this.killedByUs = true;
    this.child.kill('SIGKILL');
  }

  /** Asks the process to exit, and kills it if it has not after `graceSeconds`. */
  async close(graceSeconds = 10): Promise<void> {
    if (this.child.exitCode === null && this.child.signalCode === null) {
      this.send({ type: 'exit' });
      const t = setTimeout(() => this.child.kill('SIGKILL'), graceSeconds * 1000);
      t.unref();
      await this.exited;
      clearTimeout(t);
    }
    await new Promise<void>((resolve) => this.log.end(resolve));
  }
}
