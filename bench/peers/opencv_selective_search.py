#!/usr/bin/python3
"""Peer for the selective-search comparison: OpenCV's ximgproc SelectiveSearchSegmentation.

Runs cv2.ximgproc.segmentation.createSelectiveSearchSegmentation() in fast mode
(switchToSelectiveSearchFast(): HSV and Lab, k = 150 and 300, sigma 0.8, two strategy sets)
or quality mode on each image and prints JSON to stdout:

  {"peer": {"opencv": "4.6.0", "threads": N, "mode": "fast"},
   "images": [{"image": "astronaut.png", "width": W, "height": H, "times_s": [...],
               "median_s": t, "boxes": R, "recall": {"0.5": r, "0.7": r}}, ...],
   "summary": {"median_s": ..., "mean_boxes": ..., "recall": {"0.5": ..., "0.7": ...}}}

Boxes come from OpenCV as (x, y, w, h) and are reported as (x1, y1, x2, y2) = (x, y, x + w, y + h).
Ground truth (--gt) is JSON {"<image file name>": [[x1, y1, x2, y2], ...], ...}; recall at IoU t is
the fraction of ground-truth boxes (over all images) that some proposal overlaps with IoU >= t.
The timed call is setBaseImage + switchToSelectiveSearch* + process, on the image as decoded
(no resizing), median of --repeats runs after one warm-up.

Usage: opencv_selective_search.py IMAGE... [--threads N] [--repeats R] [--mode fast|quality]
                                   [--gt GT.json] [--boxes-out BOXES.json]
"""
import argparse
import json
import os
import statistics
import sys
import time

import cv2
import numpy as np


def iou_matrix(gt, boxes):
    """IoU of every ground-truth box (G,4) with every proposal (R,4), continuous coordinates."""
    gt = np.asarray(gt, dtype=np.float64).reshape(-1, 4)
    boxes = np.asarray(boxes, dtype=np.float64).reshape(-1, 4)
    if len(gt) == 0 or len(boxes) == 0:
        return np.zeros((len(gt), len(boxes)))
    lt = np.maximum(gt[:, None, :2], boxes[None, :, :2])
    rb = np.minimum(gt[:, None, 2:], boxes[None, :, 2:])
    wh = np.clip(rb - lt, 0, None)
    inter = wh[..., 0] * wh[..., 1]
    area_g = (gt[:, 2] - gt[:, 0]) * (gt[:, 3] - gt[:, 1])
    area_b = (boxes[:, 2] - boxes[:, 0]) * (boxes[:, 3] - boxes[:, 1])
    return inter / (area_g[:, None] + area_b[None, :] - inter)


def run_once(ss, image, mode):
    ss.setBaseImage(image)
    if mode == "fast":
        ss.switchToSelectiveSearchFast()
    else:
        ss.switchToSelectiveSearchQuality()
    return ss.process()


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("images", nargs="+")
    parser.add_argument("--threads", type=int, default=os.cpu_count())
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--mode", choices=["fast", "quality"], default="fast")
    parser.add_argument("--gt", help="ground-truth JSON: {image file name: [[x1,y1,x2,y2], ...]}")
    parser.add_argument("--boxes-out", help="write {image file name: [[x1,y1,x2,y2], ...]} here")
    args = parser.parse_args()

    cv2.setNumThreads(args.threads)
    cv2.setUseOptimized(True)
    gt = {}
    if args.gt:
        with open(args.gt) as f:
            gt = json.load(f)

    ss = cv2.ximgproc.segmentation.createSelectiveSearchSegmentation()
    results, all_boxes = [], {}
    hits = {"0.5": 0, "0.7": 0}
    n_gt = 0
    for path in args.images:
        name = os.path.basename(path)
        image = cv2.imread(path, cv2.IMREAD_COLOR)
        if image is None:
            print(f"cannot read {path}", file=sys.stderr)
            return 2
        run_once(ss, image, args.mode)  # warm-up
        times, rects = [], None
        for _ in range(args.repeats):
            t0 = time.perf_counter()
            rects = run_once(ss, image, args.mode)
            times.append(time.perf_counter() - t0)
        rects = np.asarray(rects, dtype=np.float64).reshape(-1, 4)
        boxes = np.concatenate([rects[:, :2], rects[:, :2] + rects[:, 2:]], axis=1)
        entry = {"image": name, "width": int(image.shape[1]), "height": int(image.shape[0]),
                 "times_s": times, "median_s": statistics.median(times), "boxes": int(len(boxes))}
        if name in gt:
            best = iou_matrix(gt[name], boxes).max(axis=1) if len(gt[name]) else np.zeros(0)
            entry["recall"] = {t: float((best >= float(t)).mean()) if len(best) else None for t in hits}
            for t in hits:
                hits[t] += int((best >= float(t)).sum())
            n_gt += len(best)
        results.append(entry)
        if args.boxes_out:
            all_boxes[name] = boxes.tolist()

    summary = {"median_s": statistics.median(r["median_s"] for r in results),
               "mean_boxes": statistics.mean(r["boxes"] for r in results)}
    if n_gt:
        summary["recall"] = {t: hits[t] / n_gt for t in hits}
        summary["gt_boxes"] = n_gt
    if args.boxes_out:
        with open(args.boxes_out, "w") as f:
            json.dump(all_boxes, f)
    json.dump({"peer": {"opencv": cv2.__version__, "threads": args.threads, "mode": args.mode},
               "images": results, "summary": summary}, sys.stdout, indent=1)
    print()
    return 0


if __name__ == "__main__":
    sys.exit(main())
