#!/usr/bin/env python3
"""The PyTorch child of lenet-bench, started through apps/bench/src/process/supervisor.ts in one of two modes:

  python3 torch_child.py run JOB.json        the reference cell of `lenet-bench run` (run/phases/start.ts)
  python3 torch_child.py reproduce JOB.json  one (recipe, seed) run of `reproduce --backends pytorch`
                                             (reproduce/runner.ts)

Both train on identical work to the JS backends: the network built from the same JSON ModelSpec,
the same safetensors initial weights (@lenet/model initWeights), the exact image and label bytes
the JS side used, visited in the exact batch order the JS Batcher produced (written by the harness
as uint32 epoch permutations; torch/job-files.ts), and in reproduce mode the learning rate of every
step as computed by the recipe's schedule on the JS side (float64 file; constant lr otherwise).

One stdout protocol: one JSON message per stdout line, nothing else on stdout (tracebacks go to
stderr, which the supervisor copies to the log file).
- run: the runner's command protocol, like a backend's cell process (apps/bench/src/run/types.ts,
  ParentCommand / ChildMessage): one JSON command per stdin line (init, train a window, finish,
  prepare the shared weights, one inference window, exit). The runner makes all cells take turns,
  so this process trains or measures only when told; it evaluates on the same learning-curve
  subset at the same steps as the JS cells.
- reproduce: no commands; the ReproduceMessage objects of reproduce/child.ts (info, step, epoch,
  done | error), the info message carrying build_info() of this process. After each epoch it
  evaluates on the whole test split. Augmented recipes are refused by the parent.

Needs only torch (no numpy, no safetensors package); the network, safetensors I/O, evaluation and
build_info() are in lenet_torch.py.
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

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import lenet_torch  # noqa: E402
from lenet_torch import Net, evaluate, read_bytes, read_safetensors, send, write_safetensors  # noqa: E402


# --- mode run: the reference cell of `lenet-bench run` -------------------------------------------

def quantile(sorted_values, q):
    pos = (len(sorted_values) - 1) * q
    lo, hi = int(pos), min(int(pos) + 1, len(sorted_values) - 1)
    return sorted_values[lo] + (sorted_values[hi] - sorted_values[lo]) * (pos - lo)


def latency_window(net, inp, seconds):
    """Per-call predict times (ms) for about `seconds` after a short warm-up (like a tinybench window)."""
    with torch.no_grad():
        warm_end = time.perf_counter() + min(0.1, seconds / 4)
        net(inp)
        while time.perf_counter() < warm_end:
            net(inp)
        samples = []
        end = time.perf_counter() + seconds
        while time.perf_counter() < end or len(samples) < 2:
            t0 = time.perf_counter_ns()
            net(inp)
            samples.append((time.perf_counter_ns() - t0) / 1e6)
    s = sorted(samples)
    k = min(len(s), 2000)
    return quantile(s, 0.5), [round(s[(i * len(s)) // k], 4) for i in range(k)]


def peak_rss_mb():
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # Linux: KiB


def build_info(threads):
    """What this process runs on, read from the process itself (BLAS actually loaded, oneDNN, ...)."""
    try:
        return lenet_torch.build_info()
    except Exception as err:  # noqa: BLE001 - the cell still runs; the report says what failed
        return {'torch': torch.__version__, 'threads': threads, 'error': f'build facts could not be read: {err}'}


class Cell:
    """The training trajectory and the inference set-up, advanced by the runner's commands."""

    def __init__(self, job):
        self.job = job
        f = job['files']
        rows, cols = job['rows'], job['cols']
        self.classes = job['classes']

        def images(path, count):
            return torch.frombuffer(read_bytes(path), dtype=torch.uint8).reshape(count, 1, rows, cols).to(torch.float32).div_(255)

        def labels(path):
            return torch.frombuffer(read_bytes(path), dtype=torch.uint8).to(torch.int64)

        self.xtr, self.ytr = images(f['trainImages'], job['trainCount']), labels(f['trainLabels'])
        self.xte, self.yte = images(f['testImages'], job['testCount']), labels(f['testLabels'])
        self.xev, self.yev = images(f['evalImages'], job['evalCount']), labels(f['evalLabels'])
        self.orders = torch.frombuffer(read_bytes(f['order']), dtype=torch.int32).to(torch.int64).reshape(job['epochs'], job['trainCount'])
        self.net = Net(job['spec'])
        self.net.load(read_safetensors(f['initWeights']))
        self.opt = torch.optim.SGD(self.net.parameters(), lr=job['lr'])
        self.lossf = nn.CrossEntropyLoss()
        bs = job['batchSize']
        self.full_steps = (job['trainCount'] + bs - 1) // bs
        ms = job['maxStepsPerEpoch']
        self.steps_per_epoch = min(self.full_steps, ms) if ms else self.full_steps
        # trajectory state
        self.epoch = 0  # 0-based epoch in progress
        self.step = 0  # steps done in this epoch
        self.total_steps = 0
        self.images = 0
        self.elapsed = 0.0
        self.ep_loss = 0.0
        self.ep_images = 0
        self.ep_seconds = 0.0
        self.history, self.curve, self.windows, self.trace = [], [], [], []
        self.reached = False
        self.reached_window = -1
        self.recipe_done = False
        self.last_sent = 0.0
        self.ref = None
        self.inp = None

    def eval_point(self, end_of_epoch):
        t1 = time.perf_counter()
        ev = evaluate(self.net, self.xev, self.yev, self.classes)
        point = {'epoch': self.epoch + 1, 'steps': self.total_steps, 'images': self.images, 'seconds': self.elapsed,
                 'accuracy': ev['accuracy'], 'loss': ev['loss']}
        self.curve.append(point)
        send({'type': 'eval', 'point': point})
        if ev['accuracy'] >= self.job['targetAccuracy'] and not self.reached:
            self.reached = True
            self.reached_window = len(self.windows)
        return ev, time.perf_counter() - t1

    def end_epoch(self):
        ev, eval_seconds = self.eval_point(True)
        m = {'epoch': self.epoch + 1, 'steps': self.step, 'images': self.ep_images, 'trainLoss': self.ep_loss / max(self.ep_images, 1),
             'valLoss': ev['loss'], 'valAccuracy': ev['accuracy'], 'seconds': self.ep_seconds, 'evalSeconds': eval_seconds,
             'imagesPerSecond': self.ep_images / self.ep_seconds if self.ep_seconds > 0 else 0, 'elapsedSeconds': self.elapsed,
             'partial': self.step < self.full_steps}
        self.history.append(m)
        send({'type': 'epoch', 'metrics': m})
        self.epoch += 1
        self.step = 0
        self.ep_loss, self.ep_images, self.ep_seconds = 0.0, 0, 0.0
        if self.epoch >= self.job['epochs']:
            self.recipe_done = True

    def train_window(self, seconds, rnd):
        job = self.job
        bs, every = job['batchSize'], job['evalEverySteps']
        allowed = self.elapsed + seconds
        start = (self.total_steps, self.images, self.elapsed)
        finished = None
        self.net.train()
        # Stop at the target once there are enough windows (minTrainWindows, counting this one):
        # at once if it was reached in this window, else at this window's end (as child.ts does).
        while True:
            stopping = self.reached and job['stopAtTarget'] and len(self.windows) + 1 >= job['minTrainWindows']
            if stopping and self.reached_window == len(self.windows):
                finished = 'target'
                break
            if self.recipe_done:
                finished = 'done'
                break
            if self.elapsed >= allowed:
                if stopping:
                    finished = 'target'
                break
            order = self.orders[self.epoch]
            t0 = time.perf_counter()
            idx = order[self.step * bs:(self.step + 1) * bs]
            xb, yb = self.xtr.index_select(0, idx), self.ytr.index_select(0, idx)
            loss = self.lossf(self.net(xb), yb)
            self.opt.zero_grad()
            loss.backward()
            self.opt.step()
            lv = loss.item()
            dt = time.perf_counter() - t0
            n = len(idx)
            self.elapsed += dt
            self.ep_seconds += dt
            self.step += 1
            self.total_steps += 1
            self.images += n
            self.ep_images += n
            if lv != lv or lv in (float('inf'), float('-inf')):
                raise FloatingPointError(f'non-finite loss {lv} at epoch {self.epoch + 1} step {self.step}')
            self.ep_loss += lv * n
            self.trace.append((self.images, lv, self.epoch + 1))
            now = time.perf_counter()
            if now - self.last_sent >= 0.25 or self.step == self.steps_per_epoch:
                self.last_sent = now
                send({'type': 'step', 'progress': {'epoch': self.epoch + 1, 'step': self.step, 'stepsPerEpoch': self.steps_per_epoch, 'loss': lv,
                                                    'images': self.ep_images, 'seconds': self.ep_seconds, 'elapsedSeconds': self.elapsed}})
            if self.step >= self.steps_per_epoch:
                self.end_epoch()
            elif every and self.total_steps % every == 0:
                self.eval_point(False)
        w = {'round': rnd, 'steps': self.total_steps - start[0], 'images': self.images - start[1], 'seconds': self.elapsed - start[2]}
        self.windows.append(w)
        send({'type': 'slice', 'window': w, 'finished': finished})

    def finish(self, reason, eval_images):
        job = self.job
        if self.total_steps > 0 and (not self.curve or self.curve[-1]['steps'] != self.total_steps):
            # every curve ends where training ended
            ev = evaluate(self.net, self.xev, self.yev, self.classes)
            point = {'epoch': min(job['epochs'], self.images // job['trainCount'] + 1), 'steps': self.total_steps, 'images': self.images,
                     'seconds': self.elapsed, 'accuracy': ev['accuracy'], 'loss': ev['loss']}
            self.curve.append(point)
            send({'type': 'eval', 'point': point})
        # An epoch cut by the target or the budget is not evaluated as an epoch (as core's train
        # does when stopped): its learning-curve points are in self.curve.
        images_total = self.images
        windows = self.windows[1:]
        w_img = sum(w['images'] for w in windows)
        w_sec = sum(w['seconds'] for w in windows)
        ips = w_img / w_sec if w_sec > 0 else (images_total / self.elapsed if self.elapsed > 0 else 0)
        full_epochs = sum(1 for h in self.history if not h['partial'])
        projected = full_epochs < job['epochs']
        epoch_seconds = job['trainCount'] / max(ips, 1e-9)
        size = max(1, -(-len(self.trace) // 200))
        trace = []
        for i in range(0, len(self.trace), size):
            b = self.trace[i:i + size]
            trace.append({'images': b[-1][0], 'loss': sum(s[1] for s in b) / len(b), 'epoch': b[-1][2]})
        write_safetensors(job['weightsOut'], self.net.canonical(), {'spec': json.dumps(job['spec']), 'backend': 'pytorch',
                                                                     'seed': str(job['seed']), 'steps': str(self.total_steps)})
        hit = next((p for p in self.curve if p['accuracy'] >= job['targetAccuracy']), None)
        kept_on = 0 <= self.reached_window < len(self.windows) - 1
        reason_text = {'target': f"stopped on reaching {job['targetAccuracy'] * 100:.0f}% on the learning-curve subset"
                                 + (f" (reached in window {self.reached_window + 1}; trained on to {len(self.windows)} windows for throughput intervals)" if kept_on else ''),
                       'budget': 'stopped by the time budget'}.get(reason, f"the full recipe ({job['epochs']} epochs)")
        send({'type': 'training', 'skipped': None, 'training': {
            'epochs': self.history, 'stoppedBy': None if reason == 'done' else reason,
            'budget': {'maxSeconds': None, 'maxStepsPerEpoch': job['maxStepsPerEpoch'], 'reason': reason_text},
            'totalSteps': self.total_steps, 'trainSeconds': self.elapsed, 'imagesPerSecond': ips, 'epochSeconds': epoch_seconds,
            'recipeSeconds': epoch_seconds * job['epochs'] if projected else self.elapsed, 'projected': projected,
            'timeToTarget': {'accuracy': hit['accuracy'], 'epoch': hit['epoch'], 'seconds': hit['seconds']} if hit else None,
            'lossTrace': trace, 'probe': None, 'weightsFile': job['weightsOut'], 'windows': self.windows, 'curve': self.curve}})
        send({'type': 'phase', 'phase': 'evaluate'})
        t0 = time.perf_counter()
        if eval_images >= len(self.xte):
            ev = evaluate(self.net, self.xte, self.yte, self.classes)
        else:
            ev = evaluate(self.net, self.xev, self.yev, self.classes)
        ev['seconds'] = time.perf_counter() - t0
        send({'type': 'evaluation', 'evaluation': ev})

    def prepare(self, cmd):
        job = self.job
        send({'type': 'phase', 'phase': 'agreement'})
        shared = cmd['sharedWeights']
        self.ref = Net(job['spec'])
        self.ref.load(read_safetensors(shared) if shared else read_safetensors(job['files']['initWeights']))
        self.ref.eval()
        rows, cols = job['rows'], job['cols']
        if shared:
            n = job['agreementCount']
            xa = torch.frombuffer(read_bytes(job['files']['agreementImages']), dtype=torch.float32).reshape(n, 1, rows, cols)
            with torch.no_grad():
                logits = self.ref(xa).reshape(-1).tolist()
            send({'type': 'agreement', 'logits': logits, 'weightsFile': shared})
        if cmd['evaluate']:
            t0 = time.perf_counter()
            ev = evaluate(self.ref, self.xte if cmd['evalImages'] >= len(self.xte) else self.xev,
                          self.yte if cmd['evalImages'] >= len(self.xte) else self.yev, self.classes)
            ev['seconds'] = time.perf_counter() - t0
            send({'type': 'evaluation', 'evaluation': ev})
        send({'type': 'phase', 'phase': 'inference'})
        mb = cmd['maxBatchSize']
        x = self.xte[:mb]
        if len(x) < mb:
            x = x.repeat((mb + len(x) - 1) // len(x), 1, 1, 1)[:mb]
        self.inp = x.contiguous()
        send({'type': 'prepared'})

    def infer(self, batch, seconds, rnd):
        p50, samples = latency_window(self.ref, self.inp[:batch], seconds)
        send({'type': 'window', 'window': {'batchSize': batch, 'round': rnd, 'p50Ms': p50,
                                           'imagesPerSecond': batch / (p50 / 1000) if p50 > 0 else 0, 'samples': len(samples)},
              'samplesMs': samples})


def run_cell(job_path):
    """Mode run: the reference cell, driven by the runner's commands on stdin."""
    base = json.load(open(job_path))
    phase = 'start'
    cell = None
    try:
        for line in sys.stdin:
            line = line.strip()
            if not line:
                continue
            cmd = json.loads(line)
            kind = cmd['type']
            if kind == 'init':
                job = {**base, **cmd['job'], 'files': base['files'], 'threads': base['threads']}
                send({'type': 'phase', 'phase': 'start'})
                threads = job['threads'] or torch.get_num_threads()
                torch.set_num_threads(threads)
                build = build_info(threads)
                send({'type': 'info', 'info': {
                    'package': 'torch', 'description': 'PyTorch reference (apps/bench/python/torch_child.py), CPU',
                    'canTrain': True, 'runtime': f'PyTorch {torch.__version__} CPU, {threads} threads',
                    'versions': {'torch': torch.__version__, 'python': platform.python_version()}, 'threads': threads,
                    'build': build}})
                phase = 'data'
                send({'type': 'phase', 'phase': phase})
                cell = Cell(job)
                if not job['train']:
                    send({'type': 'training', 'training': None, 'skipped': 'trained in an earlier invocation (resume)'})
                send({'type': 'ready'})
                phase = 'train'
                send({'type': 'phase', 'phase': phase})
            elif kind == 'train':
                cell.train_window(cmd['seconds'], cmd['round'])
            elif kind == 'finish':
                cell.finish(cmd['reason'], cmd['evalImages'])
            elif kind == 'prepare':
                phase = 'agreement'
                cell.prepare(cmd)
                phase = 'inference'
            elif kind == 'infer':
                cell.infer(cmd['batchSize'], cmd['seconds'], cmd['round'])
            elif kind == 'exit':
                break
        send({'type': 'done', 'peakRssMB': peak_rss_mb()})
    except BaseException as err:  # noqa: BLE001 - every failure becomes an error message for the report
        traceback.print_exc(file=sys.stderr)
        send({'type': 'error', 'phase': phase, 'message': f'{type(err).__name__}: {err}', 'peakRssMB': peak_rss_mb()})
        sys.exit(1)



# --- mode reproduce: one (recipe, seed) run of `lenet-bench reproduce --backends pytorch` ---------

def reproduce(job_path):
    """Mode reproduce: one (recipe, seed) run from start to end, no commands."""
    job = json.load(open(job_path))
    phase = 'start'
    epochs_done = []
    try:
        if job.get('threads'):
            torch.set_num_threads(job['threads'])
        build = lenet_torch.build_info()
        send({'type': 'info', 'runtime': f'PyTorch {torch.__version__} CPU, {torch.get_num_threads()} threads',
                 'versions': {'torch': torch.__version__, 'python': build['python']}, 'torchBuild': build})

        phase = 'data'
        f = job['files']
        rows, cols, classes = job['rows'], job['cols'], job['classes']
        n_train, n_test = job['trainCount'], job['testCount']

        def images(path, count):
            return torch.frombuffer(read_bytes(path), dtype=torch.uint8).reshape(count, 1, rows, cols).to(torch.float32).div_(255)

        def labels(path):
            return torch.frombuffer(read_bytes(path), dtype=torch.uint8).to(torch.int64)

        xtr, ytr = images(f['trainImages'], n_train), labels(f['trainLabels'])
        xte, yte = images(f['testImages'], n_test), labels(f['testLabels'])
        epochs, bs, steps_per_epoch = job['epochs'], job['batchSize'], job['stepsPerEpoch']
        orders = torch.frombuffer(read_bytes(f['order']), dtype=torch.int32).to(torch.int64).reshape(epochs, n_train)
        if f.get('lr'):
            raw = read_bytes(f['lr'])
            lrs = list(struct.unpack(f'<{len(raw) // 8}d', bytes(raw)))
            if len(lrs) != epochs * steps_per_epoch:
                raise ValueError(f'{f["lr"]}: {len(lrs)} learning rates, expected {epochs} x {steps_per_epoch}')
        else:
            lrs = [job['lr']] * (epochs * steps_per_epoch)

        phase = 'session'
        net = Net(job['spec'])
        net.load(read_safetensors(f['initWeights']))
        # The recipe's optimizer (momentum / Nesterov / weight decay, dampening 0): the rule of
        # @lenet/core's optimizer.ts is torch.optim.SGD's, so the same numbers mean the same thing.
        o = job.get('optimizer') or {}
        opt = torch.optim.SGD(net.parameters(), lr=lrs[0], momentum=o.get('momentum', 0), weight_decay=o.get('weightDecay', 0),
                              nesterov=bool(o.get('nesterov', False)))
        lossf = nn.CrossEntropyLoss()

        phase = 'train'
        elapsed, total_step, total_images, last_sent = 0.0, 0, 0, 0.0
        net.train()
        for e in range(epochs):
            order = orders[e]
            loss_sum, n_img, seconds = 0.0, 0, 0.0
            for s in range(steps_per_epoch):
                t0 = time.perf_counter()
                idx = order[s * bs:(s + 1) * bs]
                xb, yb = xtr.index_select(0, idx), ytr.index_select(0, idx)
                for g in opt.param_groups:
                    g['lr'] = lrs[total_step]
                loss = lossf(net(xb), yb)
                opt.zero_grad()
                loss.backward()
                opt.step()
                lv = loss.item()
                dt = time.perf_counter() - t0
                seconds += dt
                elapsed += dt
                total_step += 1
                n = len(idx)
                n_img += n
                if lv != lv or lv in (float('inf'), float('-inf')):
                    raise FloatingPointError(f'non-finite loss {lv} at epoch {e + 1} step {s + 1}')
                loss_sum += lv * n
                now = time.perf_counter()
                if now - last_sent >= 0.5 or s + 1 == steps_per_epoch:
                    last_sent = now
                    send({'type': 'step', 'epoch': e + 1, 'step': s + 1, 'stepsPerEpoch': steps_per_epoch, 'loss': lv})
            t1 = time.perf_counter()
            ev = evaluate(net, xte, yte, classes)
            m = {'epoch': e + 1, 'steps': steps_per_epoch, 'images': n_img, 'trainLoss': loss_sum / n_img, 'valLoss': ev['loss'],
                 'valAccuracy': ev['accuracy'], 'seconds': seconds, 'evalSeconds': time.perf_counter() - t1,
                 'imagesPerSecond': n_img / seconds if seconds > 0 else 0, 'elapsedSeconds': elapsed, 'partial': False}
            epochs_done.append(m)
            total_images += n_img
            send({'type': 'epoch', 'metrics': m})

        phase = 'save'
        meta = dict(job.get('weightsMetadata') or {})
        meta.update({'backend': 'pytorch', 'epochs': str(len(epochs_done)), 'valAccuracy': str(epochs_done[-1]['valAccuracy'])})
        write_safetensors(job['weightsOut'], net.canonical(), meta)
        send({'type': 'done', 'epochs': epochs_done, 'trainSeconds': elapsed, 'totalImages': total_images})
    except BaseException as err:  # noqa: BLE001 - every failure becomes an error message for the run file
        traceback.print_exc(file=sys.stderr)
        send({'type': 'error', 'phase': phase, 'message': f'{type(err).__name__}: {err}', 'epochs': epochs_done})
        sys.exit(1)



MODES = {'run': run_cell, 'reproduce': reproduce}

if __name__ == '__main__':
    if len(sys.argv) != 3 or sys.argv[1] not in MODES:
        sys.stderr.write('usage: python3 torch_child.py run|reproduce JOB.json\n')
        sys.exit(2)
    MODES[sys.argv[1]](sys.argv[2])
