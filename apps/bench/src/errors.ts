/** Errors the CLI reports as one line (exit 1) instead of a stack trace. */

/** A mistake on the command line: usage is printed and the exit code is 2. */
export class UsageError extends Error {
  override name = 'UsageError';
}

/** A user-facing failure that is not a usage mistake (bad file, missing data, ...): exit 1. */
export class CliError extends Error {
  override name = 'CliError';
}

/**
 * The CLI prints these as one line. Anything whose class name ends in "Error" and comes from our
 * packages (SpecError, IdxError, ChecksumError, SafetensorsError, ...) is a user-facing error;
 * the stack is shown only with --debug.
 */
export function describeError(err: unknown): string {
  if (err instanceof Error) {
    const name = err.name && err.name !== 'Error' ? `${err.name}: ` : '';
    return `${name}${err.message}`.split('\n').join('\n  ');
  }
  return String(err);
}
