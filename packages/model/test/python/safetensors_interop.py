"""Cross-language safetensors check for @lenet/model's tests.

  python3 safetensors_interop.py read  PATH   -> JSON summary of PATH as Python sees it
  python3 safetensors_interop.py write DIR    -> writes DIR/py.safetensors (F32) and
                                                 DIR/py_f16.safetensors, prints the summary

Uses the real library (safetensors.torch) — the point is that files we write load in
PyTorch and files PyTorch writes load in our decoder.
Summary: {"metadata": {...}, "tensors": {name: {"dtype", "shape", "sha256" of the
little-endian float32 bytes, "sum"}}}.
"""
import hashlib
import json
import os
import sys

import torch
from safetensors import safe_open
from safetensors.torch import load_file, save_file


def summary(tensors, metadata):
    out = {}
    for name, t in tensors.items():
        data = t.detach().contiguous().numpy().astype("<f4").tobytes() if t.dtype == torch.float32 else b""
        out[name] = {
            "dtype": str(t.dtype).replace("torch.", ""),
            "shape": list(t.shape),
            "sha256": hashlib.sha256(data).hexdigest(),
            "sum": float(t.double().sum()),
        }
    return {"metadata": metadata or {}, "tensors": out}


def main():
    mode, path = sys.argv[1], sys.argv[2]
    if mode == "read":
        tensors = load_file(path)
        with safe_open(path, framework="pt") as f:
            metadata = f.metadata()
        print(json.dumps(summary(tensors, metadata)))
    elif mode == "write":
        g = torch.Generator().manual_seed(0)
        # PyTorch layouts: conv [out, in, kH, kW], dense [out, in]; plus a scalar and an empty tensor.
        tensors = {
            "conv1.weight": torch.rand(6, 1, 5, 5, generator=g) - 0.5,
            "conv1.bias": torch.linspace(-1, 1, 6),
            "fc3.weight": torch.randn(10, 84, generator=g),
            "scalar": torch.tensor(3.25),
            "empty": torch.zeros(0, 3),
        }
        metadata = {"format": "pt", "written_by": "torch " + torch.__version__}
        save_file(tensors, os.path.join(path, "py.safetensors"), metadata=metadata)
        save_file({"half": torch.ones(4, dtype=torch.float16)}, os.path.join(path, "py_f16.safetensors"))
        print(json.dumps(summary(tensors, metadata)))
    else:
        raise SystemExit(f"unknown mode {mode!r}")


if __name__ == "__main__":
    main()
