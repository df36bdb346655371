#!/usr/bin/python3
"""Reference-peer timings of Fast R-CNN's core operators in torchvision (CPU).

Times torchvision's RoI pooling (forward, backward), NMS, pairwise IoU and a
BoxCoder-style box decode at Fast R-CNN sizes, so FastRcnn's C# operators
(`fastrcnn bench ops`) can be compared side by side on the same machine.

    /usr/bin/python3 bench/peers/torchvision_ops.py [--threads 2] [--repeats 7]
        [--warmup 2] [--only NAME ...]

Prints ONE JSON object on stdout (machine info + per benchmark median and all
samples, in milliseconds); progress goes to stderr.

Input recipe (the C# side reproduces it statistically; bit-identity not needed)
-----------------------------------------------------------------------------
All draws are float32 from torch.Generator().manual_seed(SEED), one generator
per tensor. U[a,b) means a + (b-a)*torch.rand(n); N(m,s) means m + s*randn.
Vectors are drawn whole, in the order listed (all x1, then all y1, ...).

  features  seed 0: 1x512x38x63 ~ N(0,1)  (conv5 of a 600x1000 image, stride 16)
  boxes(n, seed, wmin, wmax, hmin, hmax), image 600x1000 (HxW):
            x1 ~ U[0,1000), y1 ~ U[0,600), w ~ U[wmin,wmax), h ~ U[hmin,hmax),
            x2 = min(x1+w, 999), y2 = min(y1+h, 599); columns (x1,y1,x2,y2).
  rois      = boxes(2000, seed 1, 16, 500, 16, 400), prefixed by a batch-index
            column of 0 -> 2000x5 (b, x1, y1, x2, y2).
  roi grad  seed 2: 2000x512x7x7 ~ N(0,1)  (gradient fed to backward)
  nms       boxes(6000, seed 3, 10, 300, 10, 300); scores seed 4: U[0,1)
  iou       a = rois' boxes (seed 1, 2000 rows); b = boxes(50, seed 5, 16, 500, 16, 400)
  decode    proposals = rois' boxes (seed 1); deltas seed 6: 2000x84 ~ N(0,0.5)
            (21 classes x (dx,dy,dw,dh)), weights (1,1,1,1), clip log(1000/16).

Benchmarks
  roi_pool_forward   roi_pool(x, rois, (7,7), 1/16) under no_grad
  roi_pool_backward  per sample: untimed forward with requires_grad, then time
                     only out.backward(grad); the forward+backward total (the
                     grad-enabled forward also timed) is reported alongside
  nms                torchvision.ops.nms(boxes, scores, 0.7); reports "kept"
  box_iou            torchvision.ops.box_iou(a, b)  -> 2000x50
  box_decode         BoxCoder.decode_single arithmetic written out with tensor ops
Each sample is one call timed with time.perf_counter, after --warmup untimed calls.
"""
import argparse
import json
import math
import os
import platform
import statistics
import sys
import time

import torch
import torchvision
from torchvision.ops import box_iou, nms, roi_pool

IMG_H, IMG_W, STRIDE = 600, 1000, 16
BENCHMARKS = ["roi_pool_forward", "roi_pool_backward", "nms", "box_iou", "box_decode"]


def gen(seed):
    return torch.Generator().manual_seed(seed)


def uniform(n, lo, hi, g):
    return lo + (hi - lo) * torch.rand(n, generator=g)


def boxes(n, seed, wmin, wmax, hmin, hmax):
    g = gen(seed)
    x1 = uniform(n, 0, IMG_W, g)
    y1 = uniform(n, 0, IMG_H, g)
    w = uniform(n, wmin, wmax, g)
    h = uniform(n, hmin, hmax, g)
    x2 = torch.clamp(x1 + w, max=IMG_W - 1)
    y2 = torch.clamp(y1 + h, max=IMG_H - 1)
    return torch.stack([x1, y1, x2, y2], dim=1)


def make_inputs():
    feats = torch.randn(1, 512, 38, 63, generator=gen(0))
    props = boxes(2000, 1, 16, 500, 16, 400)
    rois = torch.cat([torch.zeros(2000, 1), props], dim=1)
    return {
        "feats": feats,  # 1x512x38x63
        "props": props,
        "rois": rois,
        "roi_grad": torch.randn(2000, 512, 7, 7, generator=gen(2)),
        "nms_boxes": boxes(6000, 3, 10, 300, 10, 300),
        "nms_scores": torch.rand(6000, generator=gen(4)),
        "iou_b": boxes(50, 5, 16, 500, 16, 400),
        "deltas": 0.5 * torch.randn(2000, 21 * 4, generator=gen(6)),
    }


def decode(rel_codes, boxes, weights=(1.0, 1.0, 1.0, 1.0), clip=math.log(1000.0 / 16)):
    """torchvision BoxCoder.decode_single, class-specific: rel_codes (R, 4k) against boxes (R, 4)."""
    widths = boxes[:, 2] - boxes[:, 0]
    heights = boxes[:, 3] - boxes[:, 1]
    ctr_x = boxes[:, 0] + 0.5 * widths
    ctr_y = boxes[:, 1] + 0.5 * heights
    wx, wy, ww, wh = weights
    dx, dy = rel_codes[:, 0::4] / wx, rel_codes[:, 1::4] / wy
    dw = torch.clamp(rel_codes[:, 2::4] / ww, max=clip)
    dh = torch.clamp(rel_codes[:, 3::4] / wh, max=clip)
    pred_ctr_x = dx * widths[:, None] + ctr_x[:, None]
    pred_ctr_y = dy * heights[:, None] + ctr_y[:, None]
    half_w = 0.5 * (torch.exp(dw) * widths[:, None])
    half_h = 0.5 * (torch.exp(dh) * heights[:, None])
    return torch.stack((pred_ctr_x - half_w, pred_ctr_y - half_h,
                        pred_ctr_x + half_w, pred_ctr_y + half_h), dim=2).flatten(1)


def time_calls(fn, repeats, warmup):
    """Samples (ms) of fn() after warmup calls; fn returns None or its own timed ms."""
    for _ in range(warmup):
        fn()
    samples = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        own = fn()
        samples.append(own if own is not None else (time.perf_counter() - t0) * 1e3)
    return samples


def summary(samples, **extra):
    return {"median_ms": statistics.median(samples), "samples_ms": samples, **extra}


def run(name, inp, repeats, warmup):
    if name == "roi_pool_forward":
        def fwd():
            with torch.no_grad():
                roi_pool(inp["feats"], inp["rois"], (7, 7), 1.0 / STRIDE)
        return summary(time_calls(fwd, repeats, warmup))
    if name == "roi_pool_backward":
        fwd_ms = []

        def bwd():
            x = inp["feats"].clone().requires_grad_(True)
            t0 = time.perf_counter()
            out = roi_pool(x, inp["rois"], (7, 7), 1.0 / STRIDE)
            t1 = time.perf_counter()
            out.backward(inp["roi_grad"])
            t2 = time.perf_counter()
            fwd_ms.append((t1 - t0) * 1e3)
            return (t2 - t1) * 1e3
        bwd_ms = time_calls(bwd, repeats, warmup)
        fwd_ms = fwd_ms[warmup:]
        total = [f + b for f, b in zip(fwd_ms, bwd_ms)]
        return summary(bwd_ms, forward_with_grad_samples_ms=fwd_ms,
                       forward_backward_median_ms=statistics.median(total),
                       forward_backward_samples_ms=total)
    if name == "nms":
        kept = []

        def op():
            kept.append(int(nms(inp["nms_boxes"], inp["nms_scores"], 0.7).numel()))
        return summary(time_calls(op, repeats, warmup), kept=kept[-1])
    if name == "box_iou":
        def op():
            box_iou(inp["props"], inp["iou_b"])
        return summary(time_calls(op, repeats, warmup))
    if name == "box_decode":
        def op():
            decode(inp["deltas"], inp["props"])
        return summary(time_calls(op, repeats, warmup))
    raise ValueError(name)


def cpu_model():
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--repeats", type=int, default=7)
    ap.add_argument("--warmup", type=int, default=2)
    ap.add_argument("--only", action="append", choices=BENCHMARKS,
                    help="run only this benchmark (repeatable)")
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    names = [n for n in BENCHMARKS if not args.only or n in args.only]
    inp = make_inputs()
    results = {}
    for name in names:
        print(f"[torchvision_ops] {name} ...", file=sys.stderr, flush=True)
        results[name] = run(name, inp, args.repeats, args.warmup)
        print(f"[torchvision_ops] {name}: median {results[name]['median_ms']:.3f} ms",
              file=sys.stderr, flush=True)
    machine = {
        "torch": torch.__version__, "torchvision": torchvision.__version__,
        "python": platform.python_version(), "threads": torch.get_num_threads(),
        "cpu_model": cpu_model(), "logical_cpus": os.cpu_count(),
    }
    json.dump({"peer": "torchvision", "machine": machine, "repeats": args.repeats,
               "warmup": args.warmup, "benchmarks": results}, sys.stdout, indent=2)
    sys.stdout.write("\n")


if __name__ == "__main__":
    main()
