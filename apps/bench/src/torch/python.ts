/** Where lenet-bench's Python children live and which Python runs them. */
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** apps/bench/python (next to dist/ and src/ alike). */
export const PYTHON_DIR = join(dirname(fileURLToPath(import.meta.url)), '..', '..', 'python');
/** Shared module: Net from the ModelSpec, safetensors, evaluate, build_info (`--build-info`). */
export const LENET_TORCH_SCRIPT = join(PYTHON_DIR, 'lenet_torch.py');
/** The PyTorch child: `torch_child.py run JOB.json` (run's reference cell), `torch_child.py reproduce JOB.json`. */
export const TORCH_CHILD_SCRIPT = join(PYTHON_DIR, 'torch_child.py');

/** Python to use: LENET_PYTHON, else /usr/bin/python3 (Debian's python3-torch), else python3 on PATH. */
export function pythonExecutable(env: NodeJS.ProcessEnv = process.env): string {
  return env.LENET_PYTHON || (existsSync('/usr/bin/python3') ? '/usr/bin/python3' : 'python3');
}

/** How to get a full-strength PyTorch, for error messages and notes. */
export const TORCH_INSTALL_HINT =
  'install it: Debian/Ubuntu `apt-get install python3-torch libopenblas0-pthread` (the OpenBLAS package matters: ' +
  'without it torch runs on the generic reference BLAS), or `pip install torch` (the wheel bundles MKL/OpenBLAS); ' +
  'LENET_PYTHON selects the Python to use';
