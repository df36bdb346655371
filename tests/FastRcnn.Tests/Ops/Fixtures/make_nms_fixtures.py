#!/usr/bin/python3
"""Generates nms_torchvision.json: seeded NMS cases with torchvision's keep lists.

Run with the system python that has torch 1.13 + torchvision 0.14:
    /usr/bin/python3 tests/FastRcnn.Tests/Ops/Fixtures/make_nms_fixtures.py
The tests only read the JSON; they never run python.

Every float is written as numpy's shortest float32 representation, which parses back to the
identical float32 (checked below). Greedy cases use torchvision.ops.nms; batched cases use
torchvision.ops.boxes._batched_nms_vanilla (per-class NMS; the public batched_nms switches to
the coordinate-offset trick for small inputs on CPU, which is not what Nms.Batched does).
"""
import json
import os

import numpy as np
import torch
import torchvision
from torchvision.ops.boxes import _batched_nms_vanilla

torch.set_num_threads(1)


def jittered(rng, n, centres, spread, size_lo, size_hi, quantum=None):
    """n boxes jittered around a few centres (heavy overlap)."""
    c = rng.uniform([50, 50], [550, 350], size=(centres, 2))
    pick = rng.integers(0, centres, size=n)
    cx = c[pick, 0] + rng.normal(0, spread, n)
    cy = c[pick, 1] + rng.normal(0, spread, n)
    w = rng.uniform(size_lo, size_hi, n)
    h = rng.uniform(size_lo, size_hi, n)
    b = np.stack([cx - w / 2, cy - h / 2, cx + w / 2, cy + h / 2], 1)
    if quantum:
        b = np.round(b / quantum) * quantum
    return b.astype(np.float32)


def uniform(rng, n, quantum=None):
    x1 = rng.uniform(0, 600, n)
    y1 = rng.uniform(0, 400, n)
    w = rng.uniform(5, 200, n)
    h = rng.uniform(5, 200, n)
    b = np.stack([x1, y1, x1 + w, y1 + h], 1)
    if quantum:
        b = np.round(b / quantum) * quantum
    return b.astype(np.float32)


def tied_scores(rng, n, levels):
    return rng.choice(np.linspace(0.05, 0.95, levels), size=n).astype(np.float32)


def exact_ratio_boxes():
    """Pairs whose float32 IoU is exactly float32(t) for t in 0.3/0.5/0.7 (tests the strict '>' and
    the float-vs-double threshold comparison), e.g. inter 3 / union 10 -> float32(0.3) > 0.3."""
    boxes = []
    for k, (big, small) in enumerate([(10, 3), (10, 5), (10, 7), (20, 6), (20, 14), (4, 2)]):
        y = 20.0 * k
        boxes += [[0, y, big, y + 1], [big - small, y, big, y + 1]]
    return np.array(boxes, dtype=np.float32)


def f32(x):
    s = repr(np.float32(x))
    s = s[len("np.float32("):-1] if s.startswith("np.float32(") else s
    assert np.float32(s) == np.float32(x), (s, x)
    return s


def arr(a):
    return "[" + ",".join(f32(v) for v in np.asarray(a, dtype=np.float32).ravel()) + "]"


def main():
    rng = np.random.default_rng(20240601)
    cases = []

    def add(name, boxes, scores, thr, classes=None):
        b = torch.from_numpy(boxes)
        s = torch.from_numpy(scores)
        if classes is None:
            keep = torchvision.ops.nms(b, s, thr)
        else:
            keep = _batched_nms_vanilla(b, s, torch.from_numpy(classes), thr)
        cases.append(dict(name=name, threshold=thr, boxes=boxes, scores=scores,
                          classes=classes, keep=keep.tolist()))

    add("uniform_200_t05", uniform(rng, 200), rng.uniform(0, 1, 200).astype(np.float32), 0.5)
    add("clustered_300_ties_t03", jittered(rng, 300, 5, 12, 30, 90), tied_scores(rng, 300, 4), 0.3)
    add("clustered_150_ties_t07", jittered(rng, 150, 3, 4, 40, 60), tied_scores(rng, 150, 3), 0.7)
    add("all_equal_scores_80_t05", jittered(rng, 80, 4, 8, 20, 60),
        np.full(80, 0.5, dtype=np.float32), 0.5)
    quant = jittered(rng, 250, 6, 3, 10, 14, quantum=1.0)
    quant[::17, 2] = quant[::17, 0]                  # some zero-width boxes
    quant[5::23] = quant[4::23][: len(quant[5::23])]  # some exact duplicates
    add("integer_grid_250_ties_t05", quant, tied_scores(rng, 250, 5), 0.5)
    ex = exact_ratio_boxes()
    for t in (0.3, 0.5, 0.7):
        add(f"exact_ratios_t{t}", ex, np.linspace(0.9, 0.1, len(ex)).astype(np.float32), t)
    add("integer_grid_200_t07", jittered(rng, 200, 4, 2, 8, 12, quantum=1.0), tied_scores(rng, 200, 6), 0.7)

    add("batched_200_3cls_t05", jittered(rng, 200, 4, 10, 30, 80), tied_scores(rng, 200, 5), 0.5,
        rng.integers(0, 3, 200))
    add("batched_300_5cls_t03", jittered(rng, 300, 5, 12, 30, 90), tied_scores(rng, 300, 4), 0.3,
        rng.integers(1, 6, 300))
    add("batched_120_4cls_t07", jittered(rng, 120, 2, 3, 40, 50), tied_scores(rng, 120, 3), 0.7,
        rng.choice([7, 2, 11, 5], 120))

    out = os.path.join(os.path.dirname(os.path.abspath(__file__)), "nms_torchvision.json")
    parts = []
    for c in cases:
        fields = [f'"name":{json.dumps(c["name"])}', f'"threshold":{c["threshold"]!r}',
                  f'"boxes":{arr(c["boxes"])}', f'"scores":{arr(c["scores"])}']
        if c["classes"] is not None:
            fields.append(f'"classes":{json.dumps([int(v) for v in c["classes"]])}')
        fields.append(f'"keep":{json.dumps(c["keep"])}')
        parts.append("{" + ",".join(fields) + "}")
    header = (f'"torch":{json.dumps(torch.__version__)},"torchvision":{json.dumps(torchvision.__version__)}')
    with open(out, "w") as f:
        f.write("{" + header + ',"cases":[\n' + ",\n".join(parts) + "\n]}\n")
    for c in cases:
        print(f'{c["name"]}: {len(c["boxes"])} boxes, kept {len(c["keep"])}')
    print(f"wrote {out} ({os.path.getsize(out)} bytes)")


if __name__ == "__main__":
    main()
