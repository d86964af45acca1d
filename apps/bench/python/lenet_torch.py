#!/usr/bin/env python3
"""Shared PyTorch pieces of lenet-bench's Python child (torch_child.py, both modes): the network built from the JSON ModelSpec with canonical parameter names,
safetensors read/write with json + struct (no numpy, no safetensors package), full-split
evaluation, and build_info(): the PyTorch set-up read from the running process.

`python3 lenet_torch.py --build-info` prints build_info() as one JSON line.

build_info() answers "which BLAS does this torch really use?" from the process itself, not from
how torch was built: Debian's python3-torch links libblas.so.3, which the alternatives system (or
LD_LIBRARY_PATH) resolves to OpenBLAS, or to the generic Netlib reference BLAS (~15x slower sgemm),
so torch.__config__ (BLAS_INFO=generic in both cases) cannot tell. We run a small matmul and conv,
list the BLAS/LAPACK objects in /proc/self/maps, and ask the dynamic linker (dlsym in
libtorch_cpu's scope, then dladdr) which file provides the sgemm_ torch calls.
"""
import ctypes
import json
import os
import platform
import re
import struct
import sys
import time

import torch
from torch import nn


def send(msg):
    sys.stdout.write(json.dumps(msg) + '\n')
    sys.stdout.flush()


def read_bytes(path):
    with open(path, 'rb') as f:
        return bytearray(f.read())  # writable, so torch.frombuffer does not warn


def read_safetensors(path):
    """{name: float32 tensor} from a safetensors file (F32 only, as the JS side writes)."""
    data = read_bytes(path)
    (header_len,) = struct.unpack('<Q', bytes(data[:8]))
    header = json.loads(bytes(data[8:8 + header_len]).decode('utf-8'))
    base = 8 + header_len
    out = {}
    for name, info in header.items():
        if name == '__metadata__':
            continue
        if info['dtype'] != 'F32':
            raise ValueError(f'{path}: tensor {name} has dtype {info["dtype"]}, expected F32')
        start, end = info['data_offsets']
        t = torch.frombuffer(data, dtype=torch.float32, count=(end - start) // 4, offset=base + start)
        out[name] = t.reshape(info['shape']).clone()
    return out


def write_safetensors(path, tensors, metadata):
    header = {'__metadata__': metadata}
    offset = 0
    blobs = []
    for name, t in tensors.items():
        # little-endian float32 bytes (x86/ARM), without needing numpy
        b = bytes(t.detach().to(torch.float32).contiguous().reshape(-1).view(torch.uint8).tolist())
        header[name] = {'dtype': 'F32', 'shape': list(t.shape), 'data_offsets': [offset, offset + len(b)]}
        offset += len(b)
        blobs.append(b)
    h = json.dumps(header, separators=(',', ':')).encode('utf-8')
    h += b' ' * ((8 - len(h) % 8) % 8)
    tmp = path + '.tmp'
    with open(tmp, 'wb') as f:
        f.write(struct.pack('<Q', len(h)))
        f.write(h)
        for b in blobs:
            f.write(b)
    os.replace(tmp, path)


class Net(nn.Module):
    """A Sequential built from the harness's ModelSpec JSON, with canonical parameter names."""

    def __init__(self, spec):
        super().__init__()
        c, h, w = spec['inputShape']
        feats = None
        self.layers = nn.ModuleList()
        self.names = []  # parameter prefix per layer (None for layers without parameters)
        convs = denses = 0
        for layer in spec['layers']:
            t = layer['type']
            if t == 'conv2d':
                convs += 1
                k, s, p = layer['kernelSize'], layer.get('stride', 1), layer.get('padding', 0)
                m = nn.Conv2d(c, layer['outChannels'], k, stride=s, padding=p)
                c, h, w = layer['outChannels'], (h + 2 * p - k) // s + 1, (w + 2 * p - k) // s + 1
                self.names.append(layer.get('name') or f'conv{convs}')
            elif t == 'activation':
                m = {'sigmoid': nn.Sigmoid, 'relu': nn.ReLU, 'tanh': nn.Tanh}[layer['fn']]()
                self.names.append(None)
            elif t == 'pool2d':
                k, s = layer['kernelSize'], layer.get('stride', layer['kernelSize'])
                m = (nn.AvgPool2d if layer['mode'] == 'avg' else nn.MaxPool2d)(k, s)
                h, w = (h - k) // s + 1, (w - k) // s + 1
                self.names.append(None)
            elif t == 'flatten':
                m = nn.Flatten()
                feats = c * h * w
                self.names.append(None)
            elif t == 'dense':
                denses += 1
                m = nn.Linear(feats, layer['units'])
                feats = layer['units']
                self.names.append(layer.get('name') or f'fc{denses}')
            else:
                raise ValueError(f'unsupported layer type {t!r}')
            self.layers.append(m)

    def forward(self, x):
        for m in self.layers:
            x = m(x)
        return x

    def load(self, weights):
        with torch.no_grad():
            for name, m in zip(self.names, self.layers):
                if name is None:
                    continue
                for kind in ('weight', 'bias'):
                    src = weights[f'{name}.{kind}']
                    dst = getattr(m, kind)
                    if tuple(src.shape) != tuple(dst.shape):
                        raise ValueError(f'{name}.{kind}: shape {list(src.shape)}, expected {list(dst.shape)}')
                    dst.copy_(src)

    def canonical(self):
        out = {}
        for name, m in zip(self.names, self.layers):
            if name is not None:
                out[f'{name}.weight'] = m.weight.detach().clone()
                out[f'{name}.bias'] = m.bias.detach().clone()
        return out


def evaluate(net, x, y, classes, batch=1000):
    """Accuracy, mean loss and confusion matrix over the whole split, in order."""
    net.eval()
    lossf = nn.CrossEntropyLoss(reduction='sum')
    confusion = torch.zeros(classes, classes, dtype=torch.int64)
    loss_sum = 0.0
    correct = 0
    with torch.no_grad():
        for i in range(0, len(x), batch):
            out = net(x[i:i + batch])
            yy = y[i:i + batch]
            loss_sum += lossf(out, yy).item()
            pred = out.argmax(1)
            correct += (pred == yy).sum().item()
            confusion.index_put_((yy, pred), torch.ones_like(yy), accumulate=True)
    net.train()
    n = len(x)
    return {'count': n, 'accuracy': correct / n, 'loss': loss_sum / n, 'confusion': confusion.tolist()}


# ---------------------------------------------------------------------------------------------
# build_info(): the PyTorch set-up of this process

_BLAS_NAME = re.compile(r'lib(openblas|blas|cblas|mkl|blis|lapack|flexiblas|satlas|tatlas)[^/]*\.so', re.I)


def _loaded_objects():
    """Real paths of every shared object mapped into this process, in first-mapped order."""
    seen = {}
    try:
        with open('/proc/self/maps') as f:
            for line in f:
                parts = line.split(None, 5)
                if len(parts) == 6 and parts[5].startswith('/') and '.so' in parts[5]:
                    seen.setdefault(parts[5].strip(), None)
    except OSError:
        return []
    return list(seen)


def _entry(path):
    return {'path': path, 'realPath': os.path.realpath(path)}


class _DlInfo(ctypes.Structure):
    _fields_ = [('dli_fname', ctypes.c_char_p), ('dli_fbase', ctypes.c_void_p),
                ('dli_sname', ctypes.c_char_p), ('dli_saddr', ctypes.c_void_p)]


def _sgemm_provider(objects):
    """The file whose sgemm_ libtorch_cpu's symbol lookup finds (dlsym in its scope, then dladdr)."""
    torch_cpu = next((p for p in objects if os.path.basename(p).startswith('libtorch_cpu.so')), None)
    if torch_cpu is None:
        return None, 'libtorch_cpu.so is not mapped'
    try:
        libc = ctypes.CDLL(None)
        libc.dladdr.argtypes = [ctypes.c_void_p, ctypes.POINTER(_DlInfo)]
        candidates = []
        try:  # the global scope comes first in ELF symbol lookup (RTLD_GLOBAL libraries)
            candidates.append(ctypes.cast(libc.sgemm_, ctypes.c_void_p).value)
        except AttributeError:
            pass
        try:
            candidates.append(ctypes.cast(ctypes.CDLL(torch_cpu).sgemm_, ctypes.c_void_p).value)
        except AttributeError:
            pass
        for addr in candidates:
            info = _DlInfo()
            if addr and libc.dladdr(addr, ctypes.byref(info)) and info.dli_fname:
                return os.path.realpath(info.dli_fname.decode()), None
        return None, 'sgemm_ is not visible from libtorch_cpu.so'
    except OSError as err:
        return None, f'dladdr failed: {err}'


def _classify(real_path, blas_info):
    """openblas | mkl | blis | reference | unknown, from the real file that provides sgemm_."""
    if real_path is None:
        return 'unknown'
    low = real_path.lower()
    name = os.path.basename(low)
    if 'openblas' in low:
        return 'openblas'
    if 'mkl' in name:
        return 'mkl'
    if 'blis' in low:
        return 'blis'
    if name.startswith('libtorch_cpu'):  # statically linked (pip wheels)
        return {'mkl': 'mkl', 'open': 'openblas', 'openblas': 'openblas', 'blis': 'blis'}.get(blas_info or '', 'unknown')
    # Debian/Ubuntu's libblas3 (Netlib reference) lives in .../blas/libblas.so.3.x; other distros
    # install it as plain libblas.so.3 (no other BLAS name in the path).
    if re.match(r'libblas\.so', name) and (os.path.basename(os.path.dirname(low)) in ('blas', 'lib', 'lib64', 'x86_64-linux-gnu', 'aarch64-linux-gnu')):
        return 'reference'
    return 'unknown'


def _openblas_details(objects):
    """Version, build config and threads of the loaded OpenBLAS (its own openblas_get_config())."""
    core = next((p for p in objects if os.path.basename(p).startswith('libopenblas')), None)
    if core is None:
        return None
    out = {'library': os.path.realpath(core), 'config': None, 'version': None, 'threading': None, 'threads': None, 'coreType': None}
    m = re.search(r'libopenblas(p|o)?-r(\d+(?:\.\d+)+)', os.path.basename(core))
    if m:
        out['version'] = m.group(2)
        out['threading'] = {'p': 'pthread', 'o': 'openmp'}.get(m.group(1) or '', 'serial')
    try:
        lib = ctypes.CDLL(core)
        lib.openblas_get_config.restype = ctypes.c_char_p
        out['config'] = lib.openblas_get_config().decode()
        out['threads'] = lib.openblas_get_num_threads()
        v = re.search(r'OpenBLAS (\d+(?:\.\d+)+)', out['config'])
        if v:
            out['version'] = v.group(1)
        # DYNAMIC_ARCH builds name the kernel set they picked for this CPU just before MAX_THREADS=
        c = re.search(r'(\S+)\s+MAX_THREADS=', out['config'])
        if c:
            out['coreType'] = c.group(1)
    except (OSError, AttributeError):
        pass
    if 'openmp' in core:
        out['threading'] = 'openmp'
    elif 'pthread' in core:
        out['threading'] = 'pthread'
    return out


def _config_value(config, key):
    m = re.search(rf'\b{key}=([^,\s]+)', config)
    return m.group(1) if m else None


def _sgemm_gflops(n=512, reps=5):
    """Best of `reps` n x n float32 matmuls (2 n^3 flops each), after one warm-up: evidence, not a benchmark."""
    a = torch.rand(n, n)
    b = torch.rand(n, n)
    torch.mm(a, b)
    best = float('inf')
    for _ in range(reps):
        t0 = time.perf_counter()
        torch.mm(a, b)
        best = min(best, time.perf_counter() - t0)
    return {'n': n, 'reps': reps, 'bestSeconds': best, 'gflops': 2 * n ** 3 / best / 1e9, 'threads': torch.get_num_threads()}


def build_info():
    """The PyTorch set-up of this process, JSON-able (see apps/bench/src/torch/build-info.ts)."""
    # Make torch touch its BLAS and its conv path before we look at what is mapped.
    with torch.no_grad():
        torch.mm(torch.rand(64, 64), torch.rand(64, 64))
        nn.functional.conv2d(torch.rand(2, 1, 28, 28), torch.rand(6, 1, 5, 5), padding=2)
    config = torch.__config__.show()
    objects = _loaded_objects()
    blas_objects = [_entry(p) for p in objects if _BLAS_NAME.search(os.path.basename(p))]
    blas_info = _config_value(config, 'BLAS_INFO')
    provider, why = _sgemm_provider(objects)
    kind = _classify(provider, blas_info)
    source = 'dladdr(sgemm_)'
    if provider is None:  # fall back to what is mapped
        source = 'proc-maps'
        kinds = [_classify(e['realPath'], blas_info) for e in blas_objects]
        kind = next((k for k in ('mkl', 'openblas', 'blis', 'reference') if k in kinds), 'unknown')
        provider = next((e['realPath'] for e, k in zip(blas_objects, kinds) if k == kind), None)
    blas = {'kind': kind, 'library': provider, 'source': source, 'note': why, 'openblas': None}
    if kind == 'openblas':
        blas['openblas'] = _openblas_details(objects)
        if blas['openblas']:
            blas['library'] = blas['openblas']['library']
    cap = None
    if hasattr(torch.backends, 'cpu') and hasattr(torch.backends.cpu, 'get_cpu_capability'):
        cap = torch.backends.cpu.get_cpu_capability()
    else:
        m = re.search(r'CPU capability usage:\s*(\S+)', config)
        cap = m.group(1) if m else None
    dnnl = re.search(r'(?:oneDNN|MKL-DNN)\s+v(\d+(?:\.\d+)+)', config)
    lines = [ln.strip(' -') for ln in config.splitlines() if ln.strip()]
    cpu_flags = ''
    try:
        with open('/proc/cpuinfo') as f:
            cpu_flags = next((ln for ln in f if ln.startswith('flags')), '')
    except OSError:
        pass
    return {
        'schema': 'lenet-bench/torch-build',
        'torch': torch.__version__,
        'python': platform.python_version(),
        'pythonExecutable': sys.executable,
        'blas': blas,
        'blasObjects': blas_objects,
        'config': {
            'blasInfo': blas_info,
            'lapackInfo': _config_value(config, 'LAPACK_INFO'),
            'useMkldnn': _config_value(config, 'USE_MKLDNN'),
            'useOpenmp': _config_value(config, 'USE_OPENMP'),
            'torchVersion': _config_value(config, 'TORCH_VERSION'),
            'lines': [ln for ln in lines if not ln.startswith('Build settings')],
        },
        'mkldnn': {'available': bool(torch.backends.mkldnn.is_available()), 'version': dnnl.group(1) if dnnl else None},
        'cpuCapability': cap,
        'cpuHasAvx512': ' avx512f' in cpu_flags,
        'threads': torch.get_num_threads(),
        'interopThreads': torch.get_num_interop_threads(),
        'env': {k: os.environ[k] for k in ('OMP_NUM_THREADS', 'MKL_NUM_THREADS', 'OPENBLAS_NUM_THREADS', 'OPENBLAS_CORETYPE', 'LD_LIBRARY_PATH', 'LD_PRELOAD', 'ATEN_CPU_CAPABILITY') if k in os.environ},
        'sgemm': _sgemm_gflops(),
    }


if __name__ == '__main__':
    if sys.argv[1:] == ['--build-info']:
        sys.stdout.write(json.dumps(build_info()) + '\n')
    else:
        sys.stderr.write('usage: python3 lenet_torch.py --build-info   (as a module: import lenet_torch)\n')
        sys.exit(2)
