/**
 * The TF.js backend packages are optional peer dependencies: a missing one is an error that
 * says what to install, raised when the backend is first used.
 */
export function missingPeer(pkg: string, backend: string, e: unknown): Error {
  const msg = e instanceof Error ? e.message.split('\n')[0] : String(e);
  const code = (e as { code?: string } | null)?.code;
  if (code !== 'ERR_MODULE_NOT_FOUND' && code !== 'MODULE_NOT_FOUND' && !/Cannot find (module|package)|Failed to resolve module/.test(msg)) {
    return new Error(`${backend}: ${pkg} could not be loaded: ${msg}`, { cause: e });
  }
  return new Error(`${backend} needs the optional peer dependency ${pkg}, which is not installed: run \`npm install ${pkg}@4.22.0\` (${msg})`, { cause: e });
}
