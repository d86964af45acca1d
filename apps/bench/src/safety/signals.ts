/**
 * Ctrl-C and SIGTERM for long commands (run, reproduce, train), installed once per process.
 *
 * - First SIGINT: a graceful stop. Every registered `graceful` callback runs (kill the running
 *   child, keep finished work, exit 130 when the command returns). With no callback registered
 *   (e.g. while data is still loading) there is nothing to keep: exit 130 at once.
 * - Second SIGINT: exit 130 at once, after `kill` of every registration (children are killed).
 * - SIGTERM (any): exit 143 at once, after `kill` of every registration.
 * Exiting runs process 'exit' listeners, so folder locks are released.
 */
export const EXIT_INTERRUPTED = 130;
export const EXIT_TERMINATED = 143;

export interface StopHandlers {
  /** First Ctrl-C: stop gracefully. */
  graceful?: () => void;
  /**
   * Immediate exit: kill child processes, mark results as interrupted (must be synchronous).
   * `how` says what ended the process, e.g. "terminated by SIGTERM", for notes in reports.
   */
  kill?: (how: string) => void;
}

const registrations = new Set<StopHandlers>();
let installed = false;
let sigints = 0;

function hardExit(code: number, how: string): never {
  for (const r of [...registrations]) {
    try {
      r.kill?.(how);
    } catch {
      // exiting anyway
    }
  }
  process.exit(code);
}

function onSigint(): void {
  sigints++;
  const graceful = [...registrations].filter((r) => r.graceful);
  if (sigints > 1 || graceful.length === 0) hardExit(EXIT_INTERRUPTED, sigints > 1 ? 'interrupted by a second Ctrl-C' : 'interrupted by Ctrl-C');
  for (const r of graceful) r.graceful!();
}

function onSigterm(): void {
  hardExit(EXIT_TERMINATED, 'terminated by SIGTERM');
}

/** Installs the process-wide handlers (idempotent). Call it before any long work starts. */
export function installSignalHandlers(): void {
  if (installed) return;
  installed = true;
  process.on('SIGINT', onSigint);
  process.on('SIGTERM', onSigterm);
}

/** Registers stop callbacks (and installs the handlers); returns the function that removes them. */
export function onStopSignal(handlers: StopHandlers): () => void {
  installSignalHandlers();
  registrations.add(handlers);
  return () => {
    registrations.delete(handlers);
  };
}

/** Whether a Ctrl-C has been received. */
export function interruptRequested(): boolean {
  return sigints > 0;
}
