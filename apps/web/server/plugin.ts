/**
 * Vite plugin of the LeNet Bench page. Serves, in `vite dev` and `vite preview`:
 *   /lenet-data/<dataset>/<catalog file name>  the IDX files (.gz as stored) of the local data
 *                                               folder, located by @lenet/datasets/node
 *   /lenet-weights/default                      the weights file named by LENET_WEB_WEIGHTS
 *                                               (or the plugin option), e.g. from `lenet-bench init`
 *   /lenet-wasm/<file>                          the onnxruntime-web / tfjs-backend-wasm binaries
 * and copies the wasm binaries into the build (dist/lenet-wasm/) so any static server works.
 * Every response carries COOP/COEP headers: a cross-origin-isolated page gets 5 µs timers
 * (instead of 100 µs) and SharedArrayBuffer.
 */
import { readFile } from 'node:fs/promises';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Connect, Plugin } from 'vite';
import { CATALOG, isDatasetName, type DatasetName } from '@lenet/datasets';
import { loadDataset } from '@lenet/datasets/node';
import { WASM_URL_DIR, wasmFiles } from './paths.js';

export const ISOLATION_HEADERS: Record<string, string> = {
  'Cross-Origin-Opener-Policy': 'same-origin',
  'Cross-Origin-Embedder-Policy': 'require-corp',
};

export interface LenetWebOptions {
  /** Weights served at /lenet-weights/default (default: env LENET_WEB_WEIGHTS). */
  weightsFile?: string;
  /** Data directory for @lenet/datasets/node (default: its usual search). */
  dataDir?: string;
}

const located = new Map<DatasetName, Promise<Map<string, string>>>();

/** Catalog file name -> path on disk, found (and SHA-256 verified) once per dataset. */
function dataFiles(name: DatasetName, dataDir: string | undefined): Promise<Map<string, string>> {
  let p = located.get(name);
  if (!p) {
    p = loadDataset(name, { ...(dataDir ? { dataDir } : {}), download: false }).then(
      (d) => new Map(d.source.files.map((f) => [f.file, f.path])),
    );
    p.catch(() => located.delete(name));
    located.set(name, p);
  }
  return p;
}

function send(res: ServerResponse, status: number, body: Uint8Array | string, type: string): void {
  res.statusCode = status;
  res.setHeader('Content-Type', type);
  res.setHeader('Cache-Control', 'no-store');
  for (const [k, v] of Object.entries(ISOLATION_HEADERS)) res.setHeader(k, v);
  res.end(body);
}

export function lenetMiddleware(options: LenetWebOptions = {}): Connect.NextHandleFunction {
  const wasm = wasmFiles();
  return (req: IncomingMessage, res: ServerResponse, next: Connect.NextFunction) => {
    const path = decodeURIComponent((req.url ?? '/').split('?')[0]!);
    const handle = async (): Promise<boolean> => {
      let m = /^\/lenet-data\/([^/]+)\/([^/]+)$/.exec(path);
      if (m) {
        const [, dataset, file] = m as unknown as [string, string, string];
        if (!isDatasetName(dataset)) {
          send(res, 404, `unknown dataset "${dataset}" (expected ${Object.keys(CATALOG).join(' or ')})`, 'text/plain');
          return true;
        }
        let files: Map<string, string>;
        try {
          files = await dataFiles(dataset, options.dataDir ?? process.env.LENET_DATA_DIR);
        } catch (e) {
          send(res, 404, `dataset ${dataset} not found on this machine: ${(e as Error).message}`, 'text/plain');
          return true;
        }
        const p = files.get(file);
        if (!p) {
          send(res, 404, `${dataset} has no file "${file}" (files: ${[...files.keys()].join(', ')})`, 'text/plain');
          return true;
        }
        send(res, 200, await readFile(p), 'application/octet-stream');
        return true;
      }
      if (path === '/lenet-weights/default') {
        const file = options.weightsFile ?? process.env.LENET_WEB_WEIGHTS;
        if (!file) {
          send(res, 404, 'no default weights: start the server with LENET_WEB_WEIGHTS=<file.safetensors|.onnx>', 'text/plain');
          return true;
        }
        send(res, 200, await readFile(file), 'application/octet-stream');
        return true;
      }
      m = new RegExp(`^/${WASM_URL_DIR}([^/]+)$`).exec(path);
      if (m && wasm[m[1]!]) {
        const type = m[1]!.endsWith('.mjs') ? 'text/javascript' : 'application/wasm';
        send(res, 200, await readFile(wasm[m[1]!]!), type);
        return true;
      }
      return false;
    };
    handle().then(
      (done) => {
        if (!done) next();
      },
      (err: unknown) => send(res, 500, `lenet-web server: ${(err as Error).message}`, 'text/plain'),
    );
  };
}

export function lenetWeb(options: LenetWebOptions = {}): Plugin {
  return {
    name: 'lenet-web',
    configureServer(server) {
      server.middlewares.use(lenetMiddleware(options));
    },
    configurePreviewServer(server) {
      server.middlewares.use(lenetMiddleware(options));
    },
    async generateBundle() {
      for (const [name, path] of Object.entries(wasmFiles())) {
        this.emitFile({ type: 'asset', fileName: `${WASM_URL_DIR}${name}`, source: await readFile(path) });
      }
    },
  };
}
