/**
 * A small static server for the built page (apps/web/dist) with the two routes the page needs
 * at run time, as apps/web's Vite plugin serves them in `vite dev`/`preview`:
 *   /lenet-data/<dataset>/<file>   the IDX files located (and verified) by @lenet/datasets/node
 *   /lenet-weights/default         the weights file to evaluate
 * Every response is sent with COOP/COEP, so the page is cross-origin isolated (5 µs timers).
 */
import { createServer, type Server } from 'node:http';
import { existsSync } from 'node:fs';
import { readFile, stat } from 'node:fs/promises';
import { extname, join, normalize, sep } from 'node:path';
import { isDatasetName } from '@lenet/datasets';
import { loadDataset } from '@lenet/datasets/node';
import { CliError } from '../errors.js';

const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript',
  '.mjs': 'text/javascript',
  '.css': 'text/css',
  '.wasm': 'application/wasm',
  '.json': 'application/json',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
};

export interface PageServer {
  url: string;
  close(): Promise<void>;
}

export async function servePage(opts: { appDir: string; weightsFile: string; dataDir?: string }): Promise<PageServer> {
  if (!existsSync(join(opts.appDir, 'index.html'))) {
    throw new CliError(`${opts.appDir} has no index.html: build the page first (pnpm --filter @lenet/web build), or pass --app <dist folder>`);
  }
  const dataFiles = new Map<string, Promise<Map<string, string>>>();
  const filesOf = (dataset: string) => {
    let p = dataFiles.get(dataset);
    if (!p) {
      p = loadDataset(dataset as Parameters<typeof loadDataset>[0], { ...(opts.dataDir ? { dataDir: opts.dataDir } : {}), download: false }).then(
        (d) => new Map(d.source.files.map((f) => [f.file, f.path])),
      );
      dataFiles.set(dataset, p);
    }
    return p;
  };
  const root = normalize(opts.appDir + sep);

  const server: Server = createServer((req, res) => {
    const send = (status: number, body: string | Uint8Array, type: string) => {
      res.writeHead(status, {
        'Content-Type': type,
        'Cache-Control': 'no-store',
        'Cross-Origin-Opener-Policy': 'same-origin',
        'Cross-Origin-Embedder-Policy': 'require-corp',
      });
      res.end(body);
    };
    const path = decodeURIComponent(new URL(req.url ?? '/', 'http://x').pathname);
    (async () => {
      const data = /^\/lenet-data\/([^/]+)\/([^/]+)$/.exec(path);
      if (data) {
        if (!isDatasetName(data[1])) return send(404, `unknown dataset ${data[1]}`, 'text/plain');
        const file = (await filesOf(data[1])).get(data[2]!);
        return file ? send(200, await readFile(file), 'application/octet-stream') : send(404, `no file ${data[2]}`, 'text/plain');
      }
      if (path === '/lenet-weights/default') return send(200, await readFile(opts.weightsFile), 'application/octet-stream');
      const file = normalize(join(root, path === '/' ? 'index.html' : path));
      if (!file.startsWith(root)) return send(403, 'outside the app folder', 'text/plain');
      const s = await stat(file).catch(() => null);
      if (!s?.isFile()) return send(404, `not found: ${path}`, 'text/plain');
      return send(200, await readFile(file), TYPES[extname(file)] ?? 'application/octet-stream');
    })().catch((err: unknown) => send(500, (err as Error).message, 'text/plain'));
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  const address = server.address();
  if (!address || typeof address === 'string') throw new Error('the page server has no TCP address');
  return {
    url: `http://127.0.0.1:${address.port}/`,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}
