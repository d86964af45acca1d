// The child-process supervisor (src/process/supervisor.ts) on real Node children: messages over
// both transports, stderr to the log with its last lines, and every way a child can end.
import { createWriteStream, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { SupervisedProcess, type ChildExit } from '../src/process/supervisor.js';

const dir = mkdtempSync(join(tmpdir(), 'lenet-supervisor-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** Runs `code` as a JSON-lines child (node -e); the messages, how it ended, its stderr tail and its log. */
async function jsonLinesChild(name: string, code: string, opts: { stdin?: unknown[]; timeout?: number; killAfterMs?: number } = {}) {
  const logPath = join(dir, `${name}.log`);
  const log = createWriteStream(logPath);
  const messages: unknown[] = [];
  const child = SupervisedProcess.jsonLines(process.execPath, ['-e', code], { log, onMessage: (m) => messages.push(m), stdin: !!opts.stdin });
  for (const m of opts.stdin ?? []) child.send(m);
  if (opts.timeout) child.timeoutAfter(opts.timeout);
  if (opts.killAfterMs) setTimeout(() => child.kill(), opts.killAfterMs);
  const exit: ChildExit = await child.exited;
  await new Promise<void>((resolve) => log.end(resolve));
  return { messages, exit, tail: child.stderrTail(2), log: readFileSync(logPath, 'utf8') };
}

describe('SupervisedProcess', () => {
  it('a JSON-lines child: its messages in order (even the last one before exit), stray stdout and stderr to the log', async () => {
    const r = await jsonLinesChild(
      'ok',
      `process.stdin.once('data', (d) => { const cmd = JSON.parse(String(d)); console.log(JSON.stringify({ type: 'echo', n: cmd.n })); console.log('not json'); console.error('a warning'); console.log(JSON.stringify({ type: 'last' })); process.exit(0); });`,
      { stdin: [{ n: 7 }] },
    );
    expect(r.exit).toEqual({ kind: 'ok' });
    expect(r.messages).toEqual([{ type: 'echo', n: 7 }, { type: 'last' }]);
    expect(r.log).toContain('(stdout) not json');
    expect(r.log).toContain('a warning');
  });

  it('a non-zero exit keeps the last stderr lines', async () => {
    const r = await jsonLinesChild('exit3', `console.error('first'); console.error('second'); console.error('third'); process.exit(3);`);
    expect(r.exit).toEqual({ kind: 'exit-code', code: 3 });
    expect(r.tail).toEqual(['second', 'third']);
  });

  it('a crash by a signal, a timeout and a kill are told apart', async () => {
    const forever = 'setInterval(() => {}, 1000);';
    const [crashed, timedOut, aborted] = await Promise.all([
      jsonLinesChild('signal', `process.kill(process.pid, 'SIGKILL');`),
      jsonLinesChild('timeout', forever, { timeout: 0.5 }),
      jsonLinesChild('aborted', forever, { killAfterMs: 300 }),
    ]);
    expect(crashed.exit).toEqual({ kind: 'signal', signal: 'SIGKILL' });
    expect(timedOut.exit).toEqual({ kind: 'timeout', seconds: 0.5 });
    expect(aborted.exit).toEqual({ kind: 'aborted' });
  });

  it('an executable that does not exist is a spawn error, not a hang', async () => {
    const log = createWriteStream(join(dir, 'missing.log'));
    const child = SupervisedProcess.jsonLines(join(dir, 'no-such-python'), [], { log, onMessage: () => {} });
    const exit = await child.exited;
    log.end();
    expect(exit.kind).toBe('spawn-error');
    expect(child.stderrTail(1)[0]).toMatch(/ENOENT/);
  });

  it('a forked Node child speaks over IPC (typed arrays pass as they are)', async () => {
    const script = join(dir, 'echo.mjs');
    writeFileSync(script, `process.once('message', (m) => process.send({ type: 'echo', data: m.data }, () => process.exit(0)));\n`);
    const log = createWriteStream(join(dir, 'fork.log'));
    const messages: { type: string; data: Float32Array }[] = [];
    const child = SupervisedProcess.fork(script, { log, onMessage: (m) => messages.push(m as (typeof messages)[number]) });
    child.send({ data: Float32Array.of(1.5, -2) });
    expect(await child.exited).toEqual({ kind: 'ok' });
    log.end();
    expect(messages).toHaveLength(1);
    expect(messages[0]!.data).toBeInstanceOf(Float32Array);
    expect(Array.from(messages[0]!.data)).toEqual([1.5, -2]);
  });
});
