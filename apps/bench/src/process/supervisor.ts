/**
 * The one way lenet-bench starts a child process (`run`'s cells, cold-start and peaks processes,
 * `reproduce`'s runs): start it, pass its messages on, copy its stderr (and stray stdout) to a log
 * file keeping the last lines, kill it on request or after a timeout, and say how it ended.
 *
 * Two transports, one message stream: a Node script is forked and speaks over IPC (advanced
 * serialization, so typed arrays pass as they are); a Python script is spawned and writes one JSON
 * message per stdout line (and, when `stdin` is on, reads one JSON command per stdin line). What
 * the messages mean is the caller's (run/cell-process.ts, reproduce/runner.ts).
 */
import { fork, spawn, type ChildProcess } from 'node:child_process';
import type { WriteStream } from 'node:fs';
import { createInterface } from 'node:readline';
import { childExecArgv } from '../run/node-runtime.js';

/** How a child ended, by the one rule every caller uses. */
export type ChildExit =
  | { kind: 'ok' }
  /** Killed by kill() (Ctrl-C, SIGTERM, a failed cell): not the child's fault. */
  | { kind: 'aborted' }
  /** Killed because a timeout (timeoutAfter) ran out. */
  | { kind: 'timeout'; seconds: number }
  | { kind: 'signal'; signal: NodeJS.Signals }
  | { kind: 'exit-code'; code: number }
  /** The process could not be started (no such executable, …). */
  | { kind: 'spawn-error'; message: string };

export interface SuperviseOptions {
  /** Where stderr (and stdout that is not a message) goes; the caller opens and ends it. */
  log: WriteStream;
  /** Every message of the child, in order. */
  onMessage: (message: unknown) => void;
  /** Lines of stderr kept for error messages (default 20). */
  tailLines?: number;
}

export class SupervisedProcess {
  /** Resolves once the child has ended (for a JSON-lines child: after its last stdout line was read). */
  readonly exited: Promise<ChildExit>;
  private readonly tail: string[] = [];
  private reason: { kind: 'aborted' } | { kind: 'timeout'; seconds: number } | null = null;

  private constructor(
    private readonly child: ChildProcess,
    private readonly transport: 'ipc' | 'json-lines',
    private readonly opts: SuperviseOptions,
  ) {
    const keep = opts.tailLines ?? 20;
    // A write to a child that just died fails with EPIPE; how it ended is reported by `exited`.
    child.stdin?.on('error', () => {});
    child.stderr?.on('data', (chunk: Buffer) => {
      const text = chunk.toString();
      opts.log.write(text);
      for (const line of text.split('\n')) if (line.trim()) this.tail.push(line.trim());
      if (this.tail.length > keep) this.tail.splice(0, this.tail.length - keep);
    });
    if (transport === 'json-lines') {
      createInterface({ input: child.stdout! }).on('line', (raw) => {
        const line = raw.trim();
        if (!line) return;
        let message: unknown;
        try {
          message = JSON.parse(line);
        } catch {
          opts.log.write(`(stdout) ${line}\n`); // stray output goes to the log
          return;
        }
        opts.onMessage(message);
      });
    } else {
      child.stdout?.on('data', (chunk: Buffer) => opts.log.write(chunk));
      child.on('message', (m) => opts.onMessage(m));
    }
    this.exited = new Promise((resolve) => {
      // 'close' for a JSON-lines child: its last stdout lines may be parsed after 'exit'.
      child.once(transport === 'json-lines' ? 'close' : 'exit', (code: number | null, signal: NodeJS.Signals | null) => resolve(this.classify(code, signal)));
      child.once('error', (err) => {
        this.tail.push(err.message);
        resolve({ kind: 'spawn-error', message: err.message });
      });
    });
  }

  /** Forks a Node script (IPC), with the harness's V8 flags (run/node-runtime.ts). */
  static fork(script: string, opts: SuperviseOptions): SupervisedProcess {
    const child = fork(script, [], { stdio: ['ignore', 'pipe', 'pipe', 'ipc'], serialization: 'advanced', execArgv: childExecArgv() });
    return new SupervisedProcess(child, 'ipc', opts);
  }

  /** Spawns an executable that writes JSON lines on stdout; `stdin: true` to send it JSON-line commands. */
  static jsonLines(executable: string, args: string[], opts: SuperviseOptions & { env?: Record<string, string> | null; stdin?: boolean }): SupervisedProcess {
    const child = spawn(executable, args, { stdio: [opts.stdin ? 'pipe' : 'ignore', 'pipe', 'pipe'], env: { ...process.env, ...(opts.env ?? {}) } });
    return new SupervisedProcess(child, 'json-lines', opts);
  }

  private classify(code: number | null, signal: NodeJS.Signals | null): ChildExit {
    if (this.reason) return this.reason;
    if (signal) return { kind: 'signal', signal };
    return code === 0 ? { kind: 'ok' } : { kind: 'exit-code', code: code ?? -1 };
  }

  /** The last stderr lines (trimmed, non-empty), oldest first. */
  stderrTail(lines: number): string[] {
    return this.tail.slice(-lines);
  }

  /** Whether the child is still running. */
  get running(): boolean {
    return this.child.exitCode === null && this.child.signalCode === null;
  }

  /** Sends a message (IPC, or one JSON line on stdin); a message to a gone child is dropped. */
  send(message: unknown): void {
    if (this.transport === 'json-lines') {
      if (this.child.stdin?.writable) this.child.stdin.write(JSON.stringify(message) + '\n');
    } else if (this.child.connected) this.child.send(message as object);
  }

  /** Kills the child (SIGKILL); it ends as 'aborted'. */
  kill(): void {
    this.reason ??= { kind: 'aborted' };
    this.child.kill('SIGKILL');
  }

  /** Kills the child (SIGKILL) as 'timeout' after `seconds` unless the returned function is called first. */
  timeoutAfter(seconds: number, onTimeout?: () => void): () => void {
    const timer = setTimeout(() => {
      this.reason ??= { kind: 'timeout', seconds };
      onTimeout?.();
      this.child.kill('SIGKILL');
    }, seconds * 1000);
    timer.unref();
    return () => clearTimeout(timer);
  }

  /** Kills the child if it has not ended `seconds` from now (a grace period after asking it to exit); not a timeout of its work. */
  killAfter(seconds: number): () => void {
    const timer = setTimeout(() => this.child.kill('SIGKILL'), seconds * 1000);
    timer.unref();
    return () => clearTimeout(timer);
  }
}
