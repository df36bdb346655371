#!/usr/bin/python3
"""Synthetic test scenes for the selective-search comparison, with exact ground-truth boxes.

Writes N PNG scenes (500 px on the longer side) and a ground-truth JSON
{"scene_00.png": [[x1, y1, x2, y2], ...], ...} (continuous pixel coordinates, width = x2 - x1).
Each scene: a textured background (noise plus stripes, checks or smooth blobs) and 4-8
non-overlapping objects: rectangles, ellipses and triangles, flat, gradient or textured.
Deterministic for a seed.

Usage: make_synthetic_scenes.py [--out DIR] [--count N] [--seed S]
"""
import argparse
import json
import os

import cv2
import numpy as np


def background(rng, h, w):
    yy, xx = np.mgrid[0:h, 0:w]
    base = rng.integers(60, 190, size=3)
    kind = rng.integers(0, 3)
    if kind == 0:
        period = rng.integers(4, 12)
        pattern = np.where(((xx + yy) // period) % 2 == 0, 1.0, -1.0)[..., None] * rng.integers(10, 30)
    elif kind == 1:
        period = rng.integers(6, 16)
        pattern = np.where(((xx // period) + (yy // period)) % 2 == 0, 1.0, -1.0)[..., None] * rng.integers(8, 25)
    else:
        fx, fy = rng.uniform(0.01, 0.05, size=2)
        pattern = (np.sin(xx * fx) * np.cos(yy * fy))[..., None] * rng.integers(20, 50) * rng.uniform(0.5, 1, size=3)
    noise = rng.normal(0, rng.uniform(6, 16), size=(h, w, 3))
    return base + pattern + noise


def shape_mask(kind, bw, bh):
    yy, xx = np.mgrid[0:bh, 0:bw]
    if kind == "rect":
        return np.ones((bh, bw), bool)
    if kind == "ellipse":
        dx = (xx + 0.5 - bw / 2) / (bw / 2)
        dy = (yy + 0.5 - bh / 2) / (bh / 2)
        return dx * dx + dy * dy <= 1
    reach = (bw / 2) * (yy + 1) / bh
    return np.abs(xx + 0.5 - bw / 2) <= reach


def fill(rng, bw, bh):
    c0 = rng.integers(0, 256, size=3).astype(np.float64)
    style = rng.integers(0, 3)
    if style == 0:
        return np.broadcast_to(c0, (bh, bw, 3)).copy()
    if style == 1:
        c1 = rng.integers(0, 256, size=3).astype(np.float64)
        t = np.linspace(0, 1, bw)[None, :, None] if rng.integers(0, 2) else np.linspace(0, 1, bh)[:, None, None]
        return c0 + t * (c1 - c0) + np.zeros((bh, bw, 1))
    yy, xx = np.mgrid[0:bh, 0:bw]
    period = rng.integers(3, 8)
    return c0 + (np.where(((xx // period) + (yy // period)) % 2 == 0, 1.0, -1.0)[..., None] * rng.integers(15, 40))


def scene(rng):
    w, h = (500, int(rng.integers(330, 420))) if rng.integers(0, 3) else (int(rng.integers(330, 420)), 500)
    img = background(rng, h, w)
    occupied = np.zeros((h, w), bool)
    boxes = []
    target = int(rng.integers(4, 9))
    for _ in range(400):
        if len(boxes) == target:
            break
        bw, bh = int(rng.integers(30, w // 2)), int(rng.integers(30, h // 2))
        x1, y1 = int(rng.integers(0, w - bw)), int(rng.integers(0, h - bh))
        if occupied[max(0, y1 - 6):y1 + bh + 6, max(0, x1 - 6):x1 + bw + 6].any():
            continue
        kind = ["rect", "ellipse", "triangle"][int(rng.integers(0, 3))]
        mask = shape_mask(kind, bw, bh)
        region = img[y1:y1 + bh, x1:x1 + bw]
        region[mask] = fill(rng, bw, bh)[mask] + rng.normal(0, 3, size=(int(mask.sum()), 3))
        occupied[y1:y1 + bh, x1:x1 + bw] = True
        ys, xs = np.nonzero(mask)
        boxes.append([x1 + int(xs.min()), y1 + int(ys.min()), x1 + int(xs.max()) + 1, y1 + int(ys.max()) + 1])
    return np.clip(np.rint(img), 0, 255).astype(np.uint8), boxes


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    here = os.path.dirname(os.path.abspath(__file__))
    parser.add_argument("--out", default=os.path.join(here, "data", "synthetic"))
    parser.add_argument("--count", type=int, default=10)
    parser.add_argument("--seed", type=int, default=2015)
    args = parser.parse_args()
    os.makedirs(args.out, exist_ok=True)
    rng = np.random.default_rng(args.seed)
    gt = {}
    for i in range(args.count):
        rgb, boxes = scene(rng)
        name = f"scene_{i:02d}.png"
        cv2.imwrite(os.path.join(args.out, name), cv2.cvtColor(rgb, cv2.COLOR_RGB2BGR))
        gt[name] = boxes
    with open(os.path.join(args.out, "gt.json"), "w") as f:
        json.dump(gt, f, indent=1)
    print(f"wrote {args.count} scenes and gt.json to {args.out}")


if __name__ == "__main__":
    main()
