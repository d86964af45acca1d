import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as ort from 'onnxruntime-node';

const PYTHON = process.env.LENET_PYTHON ?? '/usr/bin/python3';

function probeOnnx(): string | true {
  const r = spawnSync(PYTHON, ['-c', 'import onnx; print(onnx.__version__)'], { encoding: 'utf8' });
  if (r.error) return `${PYTHON} not runnable (${r.error.message})`;
  if (r.status !== 0) return `python module "onnx" not importable with ${PYTHON} (install python3-onnx)`;
  return true;
}

/** true, or the reason the ONNX reference checker cannot run here. */
export const onnxChecker = probeOnnx();
if (onnxChecker !== true) console.warn(`[skip] ONNX checker tests: ${onnxChecker}`);

/**
 * Runs onnx.checker.check_model(path, full_check=True) on every model in one python process
 * (python + onnx start-up dominates). Returns, per key, the checker's error text (null = passed)
 * and "ir_version opsets onnx_version".
 */
export function checkWithOnnx(models: Record<string, Uint8Array>): Record<string, { error: string | null; info: string }> {
  const dir = mkdtempSync(join(tmpdir(), 'lenet-onnx-'));
  try {
    const paths: Record<string, string> = {};
    Object.entries(models).forEach(([key, bytes], i) => {
      paths[key] = join(dir, `m${i}.onnx`);
      writeFileSync(paths[key], bytes);
    });
    const script = [
      'import sys, json, onnx',
      'out = {}',
      'for key, path in json.loads(sys.argv[1]).items():',
      '    try:',
      '        onnx.checker.check_model(path, full_check=True)',
      '        m = onnx.load(path)',
      '        ops = ",".join(f"{o.domain or \'ai.onnx\'}:{o.version}" for o in m.opset_import)',
      '        out[key] = {"error": None, "info": f"{m.ir_version} {ops} {onnx.__version__}"}',
      '    except Exception as e:',
      '        out[key] = {"error": f"{type(e).__name__}: {e}", "info": ""}',
      'print(json.dumps(out))',
    ].join('\n');
    const r = spawnSync(PYTHON, ['-c', script, JSON.stringify(paths)], { encoding: 'utf8', maxBuffer: 1 << 24 });
    if (r.status !== 0) throw new Error(`python checker failed: ${r.stderr}`);
    return JSON.parse(r.stdout) as Record<string, { error: string | null; info: string }>;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

export function session(bytes: Uint8Array): Promise<ort.InferenceSession> {
  return ort.InferenceSession.create(bytes, { executionProviders: ['cpu'], intraOpNumThreads: 1, graphOptimizationLevel: 'all' });
}

export { ort };
