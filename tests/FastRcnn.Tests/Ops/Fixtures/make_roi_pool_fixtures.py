#!/usr/bin/python3
"""Generates roi_pool_torchvision.json: seeded RoI pooling cases with torchvision's outputs.

Run with the system python that has torch 1.13 + torchvision 0.14:
    /usr/bin/python3 tests/FastRcnn.Tests/Ops/Fixtures/make_roi_pool_fixtures.py
The tests only read the JSON; they never run python.

Each case: features (N,C,H,W), rois (R,5), output size, spatial scale; torchvision's
roi_pool output, and the gradient w.r.t. the features for a given output gradient. Feature
values are multiples of 1/8 in [-4, 4] (many ties, exactly representable); RoI corners include
multiples of 8 (the x*1/16 = .5 rounding edge), boxes outside the map and reversed boxes.
"""
import json
import os

import numpy as np
import torch
from torchvision.ops import roi_pool

torch.set_num_threads(1)


def case(rng, name, n, c, h, w, r, out, scale):
    feats = (rng.integers(-32, 33, size=(n, c, h, w)) / 8.0).astype(np.float32)
    img_w, img_h = w / scale, h / scale
    rois = []
    for _ in range(r):
        if rng.random() < 0.5:
            xs = rng.integers(-4, int(img_w / 8) + 4, size=2) * 8.0
            ys = rng.integers(-4, int(img_h / 8) + 4, size=2) * 8.0
        else:
            xs = rng.uniform(-40, img_w + 40, size=2)
            ys = rng.uniform(-40, img_h + 40, size=2)
        if rng.random() < 0.85:
            xs, ys = np.sort(xs), np.sort(ys)
        rois.append([rng.integers(0, n), xs[0], ys[0], xs[1], ys[1]])
    rois = np.array(rois, dtype=np.float32)
    grad = (rng.integers(-8, 9, size=(r, c, out[0], out[1])) / 4.0).astype(np.float32)
    x = torch.from_numpy(feats).requires_grad_(True)
    y = roi_pool(x, torch.from_numpy(rois), out, scale)
    y.backward(torch.from_numpy(grad))
    return {
        "name": name, "shape": [n, c, h, w], "pooled": list(out), "scale": scale,
        "features": feats.ravel().tolist(), "rois": [repr(float(v)) for v in rois.ravel()],
        "grad_output": grad.ravel().tolist(),
        "output": y.detach().numpy().ravel().tolist(),
        "grad_features": x.grad.numpy().ravel().tolist(),
    }


def main():
    rng = np.random.default_rng(2015)
    cases = [
        case(rng, "vgg16-7x7", 1, 8, 9, 11, 30, (7, 7), 1 / 16),
        case(rng, "two-images-6x6", 2, 13, 12, 10, 20, (6, 6), 1 / 16),
        case(rng, "avx512-groups", 1, 70, 8, 9, 5, (7, 7), 1 / 16),
        case(rng, "half-scale-3x5", 3, 5, 6, 7, 30, (3, 5), 0.5),
    ]
    for c in cases:  # the RoI coordinates must parse back to the same float32
        assert all(np.float32(float(v)) == np.float32(v) for v in c["rois"])
    path = os.path.join(os.path.dirname(os.path.abspath(__file__)), "roi_pool_torchvision.json")
    with open(path, "w") as f:
        json.dump({"torchvision": __import__("torchvision").__version__, "cases": cases}, f, separators=(",", ":"))
    print(f"wrote {path} ({os.path.getsize(path)} bytes)")


if __name__ == "__main__":
    main()
