"""Independent re-implementation of @lenet/model's initWeights, from its documented procedure.

Usage: python3 init_reference.py SEED SHAPES_JSON
SHAPES_JSON: [[name, shape, kind], ...] in canonical order. Prints {name: sha256 of the
little-endian float32 bytes} as JSON, plus "all" for the concatenation.
Needs numpy only: numpy's legacy RandomState(seed) is MT19937 seeded with init_genrand, the
same stream as pure-rand's mersenne(seed).
"""
import hashlib
import json
import math
import sys

import numpy as np


def main() -> None:
    seed = int(sys.argv[1])
    params = json.loads(sys.argv[2])
    rs = np.random.RandomState(seed)
    digests = {}
    everything = hashlib.sha256()
    for name, shape, kind in params:
        size = int(np.prod(shape, dtype=np.int64)) if shape else 1
        if kind == "bias":
            values = np.zeros(size, dtype=np.float32)
        else:
            receptive = int(np.prod(shape[2:], dtype=np.int64)) if len(shape) > 2 else 1
            fan_in, fan_out = shape[1] * receptive, shape[0] * receptive
            limit = math.sqrt(6.0 / (fan_in + fan_out))
            # Two raw 32-bit outputs per element: (a, b) interleaved.
            raw = rs.randint(0, 2**32, size=2 * size, dtype=np.uint64)
            a = (raw[0::2] & np.uint64(2**26 - 1)).astype(np.float64)
            b = (raw[1::2] & np.uint64(2**27 - 1)).astype(np.float64)
            u = a * 2.0**-26 + b * 2.0**-53
            values = ((2.0 * u - 1.0) * limit).astype(np.float32)
        data = values.astype("<f4").tobytes()
        digests[name] = hashlib.sha256(data).hexdigest()
        everything.update(data)
    digests["all"] = everything.hexdigest()
    print(json.dumps(digests))


if __name__ == "__main__":
    main()
