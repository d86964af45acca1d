#!/usr/bin/env python3
"""PyTorch child of `lenet-bench reproduce --backends pytorch` (started by apps/bench/src/reproduce/runner.ts).

Trains one (recipe, seed) on identical work to the JS backends: the network built from the same
JSON ModelSpec, the same safetensors initial weights (@lenet/model initWeights), the exact image
and label bytes, the Batcher's per-epoch sample order, and the learning rate of every step as
computed by the recipe's schedule on the JS side (float64 file; constant lr otherwise). After each
epoch it evaluates on the whole test split. Augmented recipes are refused by the parent.

Usage: python3 torch_reproduce.py JOB.json
Output: one JSON message per stdout line, the ReproduceMessage objects of reproduce/child.ts
(info, step, epoch, done | error); the info message also carries build_info() of this process.
"""
import json
import struct
import sys
import time
import traceback

import torch
from torch import nn

import lenet_torch as lt


def main():
    job = json.load(open(sys.argv[1]))
    phase = 'start'
    epochs_done = []
    try:
        if job.get('threads'):
            torch.set_num_threads(job['threads'])
        build = lt.build_info()
        lt.send({'type': 'info', 'runtime': f'PyTorch {torch.__version__} CPU, {torch.get_num_threads()} threads',
                 'versions': {'torch': torch.__version__, 'python': build['python']}, 'torchBuild': build})

        phase = 'data'
        f = job['files']
        rows, cols, classes = job['rows'], job['cols'], job['classes']
        n_train, n_test = job['trainCount'], job['testCount']

        def images(path, count):
            return torch.frombuffer(lt.read_bytes(path), dtype=torch.uint8).reshape(count, 1, rows, cols).to(torch.float32).div_(255)

        def labels(path):
            return torch.frombuffer(lt.read_bytes(path), dtype=torch.uint8).to(torch.int64)

        xtr, ytr = images(f['trainImages'], n_train), labels(f['trainLabels'])
        xte, yte = images(f['testImages'], n_test), labels(f['testLabels'])
        epochs, bs, steps_per_epoch = job['epochs'], job['batchSize'], job['stepsPerEpoch']
        orders = torch.frombuffer(lt.read_bytes(f['order']), dtype=torch.int32).to(torch.int64).reshape(epochs, n_train)
        if f.get('lr'):
            raw = lt.read_bytes(f['lr'])
            lrs = list(struct.unpack(f'<{len(raw) // 8}d', bytes(raw)))
            if len(lrs) != epochs * steps_per_epoch:
                raise ValueError(f'{f["lr"]}: {len(lrs)} learning rates, expected {epochs} x {steps_per_epoch}')
        else:
            lrs = [job['lr']] * (epochs * steps_per_epoch)

        phase = 'session'
        net = lt.Net(job['spec'])
        net.load(lt.read_safetensors(f['initWeights']))
        opt = torch.optim.SGD(net.parameters(), lr=lrs[0])
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
                    lt.send({'type': 'step', 'epoch': e + 1, 'step': s + 1, 'stepsPerEpoch': steps_per_epoch, 'loss': lv})
            t1 = time.perf_counter()
            ev = lt.evaluate(net, xte, yte, classes)
            m = {'epoch': e + 1, 'steps': steps_per_epoch, 'images': n_img, 'trainLoss': loss_sum / n_img, 'valLoss': ev['loss'],
                 'valAccuracy': ev['accuracy'], 'seconds': seconds, 'evalSeconds': time.perf_counter() - t1,
                 'imagesPerSecond': n_img / seconds if seconds > 0 else 0, 'elapsedSeconds': elapsed, 'partial': False}
            epochs_done.append(m)
            total_images += n_img
            lt.send({'type': 'epoch', 'metrics': m})

        phase = 'save'
        meta = dict(job.get('weightsMetadata') or {})
        meta.update({'backend': 'pytorch', 'epochs': str(len(epochs_done)), 'valAccuracy': str(epochs_done[-1]['valAccuracy'])})
        lt.write_safetensors(job['weightsOut'], net.canonical(), meta)
        lt.send({'type': 'done', 'epochs': epochs_done, 'trainSeconds': elapsed, 'totalImages': total_images})
    except BaseException as err:  # noqa: BLE001 - every failure becomes an error message for the run file
        traceback.print_exc(file=sys.stderr)
        lt.send({'type': 'error', 'phase': phase, 'message': f'{type(err).__name__}: {err}', 'epochs': epochs_done})
        sys.exit(1)


if __name__ == '__main__':
    main()
