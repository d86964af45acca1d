#!/usr/bin/env python3
"""PyTorch reference cell of `lenet-bench run` (started by apps/bench/src/run/torch.ts).

Trains the same recipe as the JS backends on identical work: the network is built from the same
JSON model spec, starts from the same safetensors initial weights, reads the exact image/label
bytes the JS side used and visits them in the exact batch order the JS Batcher produced (written
by the harness as uint32 epoch permutations). Then it evaluates the final weights on the test
split, computes logits of the shared agreement weights, and times inference at batch 1 and 256.

Usage: python3 torch_reference.py JOB.json
Output: one JSON message per stdout line, the same messages a backend child sends over IPC
(phase, info, step, epoch, training, evaluation, agreement, inference, done | error).
Needs only torch (no numpy, no safetensors package): safetensors is read with json + struct.
"""
import json
import os
import platform
import resource
import struct
import sys
import time
import traceback

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


def quantile(sorted_values, q):
    pos = (len(sorted_values) - 1) * q
    lo, hi = int(pos), min(int(pos) + 1, len(sorted_values) - 1)
    return sorted_values[lo] + (sorted_values[hi] - sorted_values[lo]) * (pos - lo)


def latency(net, x, n, seconds):
    """Per-call predict times (ms) for about `seconds` after a warm-up; summary like tinybench's."""
    inp = x[:n]
    with torch.no_grad():
        warm_end = time.perf_counter() + min(0.3, seconds / 4)
        while time.perf_counter() < warm_end:
            net(inp)
        samples = []
        end = time.perf_counter() + seconds
        while time.perf_counter() < end or len(samples) < 5:
            t0 = time.perf_counter_ns()
            net(inp)
            samples.append((time.perf_counter_ns() - t0) / 1e6)
    s = sorted(samples)
    mean = sum(s) / len(s)
    p50 = quantile(s, 0.5)
    mad = quantile(sorted(abs(v - p50) for v in s), 0.5)
    k = min(len(s), 2000)
    thinned = [round(s[(i * len(s)) // k], 4) for i in range(k)]
    return {'batchSize': n, 'p50Ms': p50, 'p99Ms': quantile(s, 0.99), 'meanMs': mean, 'minMs': s[0], 'maxMs': s[-1],
            'madMs': mad, 'samplesCount': len(s), 'imagesPerSecond': n / (p50 / 1000) if p50 > 0 else 0, 'samplesMs': thinned}


def peak_rss_mb():
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # Linux: KiB


def main():
    job = json.load(open(sys.argv[1]))
    phase = 'start'
    try:
        send({'type': 'phase', 'phase': phase})
        threads = job['threads'] or torch.get_num_threads()
        torch.set_num_threads(threads)
        send({'type': 'info', 'info': {
            'package': 'torch', 'description': 'PyTorch reference (apps/bench/python/torch_reference.py), CPU',
            'canTrain': True, 'runtime': f'PyTorch {torch.__version__} CPU, {threads} threads',
            'versions': {'torch': torch.__version__, 'python': platform.python_version()}, 'threads': threads}})

        phase = 'data'
        send({'type': 'phase', 'phase': phase})
        f = job['files']
        rows, cols, classes = job['rows'], job['cols'], job['classes']

        def images(path, count):
            return torch.frombuffer(read_bytes(path), dtype=torch.uint8).reshape(count, 1, rows, cols).to(torch.float32).div_(255)

        def labels(path):
            return torch.frombuffer(read_bytes(path), dtype=torch.uint8).to(torch.int64)

        xtr, ytr = images(f['trainImages'], job['trainCount']), labels(f['trainLabels'])
        xte, yte = images(f['testImages'], job['testCount']), labels(f['testLabels'])
        orders = torch.frombuffer(read_bytes(f['order']), dtype=torch.int32).to(torch.int64).reshape(job['epochs'], job['trainCount'])

        phase = 'session'
        send({'type': 'phase', 'phase': phase})
        net = Net(job['spec'])
        net.load(read_safetensors(f['initWeights']))
        opt = torch.optim.SGD(net.parameters(), lr=job['lr'])
        lossf = nn.CrossEntropyLoss()

        phase = 'train'
        send({'type': 'phase', 'phase': phase})
        bs, epochs = job['batchSize'], job['epochs']
        max_seconds = job['trainSeconds']
        max_steps = job['maxStepsPerEpoch']
        steps_per_epoch_full = (job['trainCount'] + bs - 1) // bs
        steps_per_epoch = min(steps_per_epoch_full, max_steps) if max_steps else steps_per_epoch_full
        history, trace_steps = [], []
        elapsed, total_steps, images_before, stopped_by, tt = 0.0, 0, 0, None, None
        last_sent = 0.0
        net.train()
        for e in range(epochs):
            if max_seconds is not None and elapsed >= max_seconds:
                stopped_by = 'budget'
                break
            order = orders[e]
            loss_sum, n_img, steps, seconds, out_of_time = 0.0, 0, 0, 0.0, False
            while steps < steps_per_epoch:
                t0 = time.perf_counter()
                idx = order[steps * bs:(steps + 1) * bs]
                xb, yb = xtr.index_select(0, idx), ytr.index_select(0, idx)
                loss = lossf(net(xb), yb)
                opt.zero_grad()
                loss.backward()
                opt.step()
                lv = loss.item()
                dt = time.perf_counter() - t0
                n = len(idx)
                seconds += dt
                elapsed += dt
                steps += 1
                total_steps += 1
                n_img += n
                if lv != lv or lv in (float('inf'), float('-inf')):
                    raise FloatingPointError(f'non-finite loss {lv} at epoch {e + 1} step {steps}')
                loss_sum += lv * n
                trace_steps.append((images_before + n_img, lv, e + 1))
                now = time.perf_counter()
                if now - last_sent >= 0.25 or steps == steps_per_epoch:
                    last_sent = now
                    send({'type': 'step', 'progress': {'epoch': e + 1, 'step': steps, 'stepsPerEpoch': steps_per_epoch, 'loss': lv,
                                                        'images': n_img, 'seconds': seconds, 'elapsedSeconds': elapsed}})
                if max_seconds is not None and elapsed >= max_seconds:
                    out_of_time = True
                    break
            t1 = time.perf_counter()
            ev = evaluate(net, xte, yte, classes)
            m = {'epoch': e + 1, 'steps': steps, 'images': n_img, 'trainLoss': loss_sum / n_img, 'valLoss': ev['loss'],
                 'valAccuracy': ev['accuracy'], 'seconds': seconds, 'evalSeconds': time.perf_counter() - t1,
                 'imagesPerSecond': n_img / seconds if seconds > 0 else 0, 'elapsedSeconds': elapsed,
                 'partial': steps < steps_per_epoch_full}
            history.append(m)
            images_before += n_img
            send({'type': 'epoch', 'metrics': m})
            if tt is None and ev['accuracy'] >= job['targetAccuracy']:
                tt = {'accuracy': ev['accuracy'], 'epoch': e + 1, 'seconds': elapsed}
            if out_of_time and (steps < steps_per_epoch or e < epochs - 1):
                stopped_by = 'budget'
                break

        images_total = sum(h['images'] for h in history)
        ips = images_total / elapsed if elapsed > 0 else 0
        projected = len(history) < epochs or any(h['partial'] for h in history)
        epoch_seconds = job['trainCount'] / max(ips, 1e-9) if projected else elapsed / len(history)
        size = max(1, -(-len(trace_steps) // 200))
        trace = []
        for i in range(0, len(trace_steps), size):
            b = trace_steps[i:i + size]
            trace.append({'images': b[-1][0], 'loss': sum(s[1] for s in b) / len(b), 'epoch': b[-1][2]})
        write_safetensors(job['weightsOut'], net.canonical(), {'spec': json.dumps(job['spec']), 'backend': 'pytorch',
                                                                'seed': str(job['seed']), 'epochs': str(len(history))})
        reason = f'at most {max_seconds} s of training' if max_seconds is not None else f'the full recipe ({epochs} epochs)'
        if max_steps:
            reason += f', at most {max_steps} steps per epoch'
        send({'type': 'training', 'skipped': None, 'training': {
            'epochs': history, 'stoppedBy': stopped_by, 'budget': {'maxSeconds': max_seconds, 'maxStepsPerEpoch': max_steps, 'reason': reason},
            'totalSteps': total_steps, 'trainSeconds': elapsed, 'imagesPerSecond': ips, 'epochSeconds': epoch_seconds,
            'recipeSeconds': epoch_seconds * epochs if projected else elapsed, 'projected': projected, 'timeToTarget': tt,
            'lossTrace': trace, 'probe': None, 'weightsFile': job['weightsOut']}})

        phase = 'evaluate'
        send({'type': 'phase', 'phase': phase})
        t0 = time.perf_counter()
        ev = evaluate(net, xte, yte, classes)
        ev['seconds'] = time.perf_counter() - t0
        send({'type': 'evaluation', 'evaluation': ev})

        phase = 'agreement'
        send({'type': 'phase', 'phase': phase})
        shared = job['agreementWeights'] or job['weightsOut']
        ref = Net(job['spec'])
        ref.load(read_safetensors(shared))
        ref.eval()
        n = job['agreementCount']
        xa = torch.frombuffer(read_bytes(f['agreementImages']), dtype=torch.float32).reshape(n, 1, rows, cols)
        with torch.no_grad():
            logits = ref(xa).reshape(-1).tolist()
        send({'type': 'agreement', 'logits': logits, 'weightsFile': shared})

        phase = 'inference'
        send({'type': 'phase', 'phase': phase})
        x256 = xte[:256]
        if len(x256) < 256:
            x256 = x256.repeat((256 + len(x256) - 1) // len(x256), 1, 1, 1)[:256]
        half = job['inferenceSeconds'] / 2
        send({'type': 'inference', 'inference': {'tool': 'perf_counter loop (torch.no_grad)',
                                                 'batch1': latency(ref, x256, 1, half), 'batch256': latency(ref, x256, 256, half)}})
        send({'type': 'done', 'peakRssMB': peak_rss_mb()})
    except BaseException as err:  # noqa: BLE001 - every failure becomes an error message for the report
        traceback.print_exc(file=sys.stderr)
        send({'type': 'error', 'phase': phase, 'message': f'{type(err).__name__}: {err}', 'peakRssMB': peak_rss_mb()})
        sys.exit(1)


if __name__ == '__main__':
    main()
