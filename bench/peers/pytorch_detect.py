#!/usr/bin/python3
"""Reference-peer timing of Fast R-CNN detection in PyTorch (CPU), stage by stage.

The same network and the same test-time path as FastRcnn's `detect` benchmark
(bench/FastRcnn.Benchmarks/DetectBenchmark.cs, which runs the library's
Detector), written with torch and torchvision as a Python user would:

    /usr/bin/python3 bench/peers/pytorch_detect.py --network vgg16|small
        [--threads 2] [--images 5] [--warmup 1] [--svd 1024,256]

Prints ONE JSON object on stdout (per-stage samples and medians in
milliseconds, detections per image, peak RSS in MiB = ru_maxrss of this
process); progress goes to stderr.

Network: the one of pytorch_train_step.py (VGG16 features[:30] with roi_pool
7x7, fc6/fc7 4096; or the small Shapes trunk with roi_pool 5x5, fc6/fc7 512),
K = 20 object classes, in eval mode under torch.no_grad(). Weights are drawn as
FastRcnnModel draws them, from ONE torch.Generator seeded 0 in this order:
every conv weight ~ N(0, 2/fan_out), fc6 and fc7 weights ~ N(0, 2/fan_in),
cls_score ~ N(0, 0.01^2), bbox_pred ~ N(0, 0.001^2), biases 0. libtorch's CPU
generator gives both sides the same numbers, so both sides run the same
network and keep (nearly) the same detections; the counts are reported.

Inputs: image j (j = 0, 1, ...; warm-ups first) = 255 * U[0,1) of shape
(3, H, W), seed 100 + j, RGB 0-255; the same 2000 proposals for every image,
seed 1: x1 ~ U[0, W-32), y1 ~ U[0, H-32), w ~ U[16, W/2), h ~ U[16, 2H/3),
x2 = min(x1+w, W-1), y2 = min(y1+h, H-1) (valid: at least 16 px wide and tall
before the image border cuts them, never degenerate). vgg16: 600x1000 at
scale 600 / max 1000; small: 400x600 at scale 400 / max 666 (factor 1: no
resampling).

Stages (as the Detector's StageTimes):
  conv     scale factor, (resize), pixels (x/255 - mean)/std, features
  roi_pool torchvision.ops.roi_pool of the 2000 RoIs at 1/16
  fc6      linear + ReLU on the flattened pooled RoIs
  fc7      linear + ReLU
  outputs  cls_score, bbox_pred, softmax, class-specific decode (BoxCoder
           weights 10, 10, 5, 5, dw/dh clamped at log(1000/16)), clip
  nms      scores > 0.05 (background excluded), boxes under 0.01 px dropped,
           torchvision.ops.batched_nms at IoU 0.3, top 100 (as torchvision's
           RoIHeads.postprocess_detections)

--svd T6,T7: afterwards, fc6 and fc7 factored by truncated SVD (SPEC 7,
computed in float64: W ~ U_t (S_t V_t^T)) and timed in the two-matmul form
relu(linear(linear(x, S_t V_t^T), U_t, b)) on the pooled RoIs of the last
image, --images times after --warmup, reported as fc6_svd / fc7_svd.
"""
import argparse
import json
import math
import os
import platform
import resource
import statistics
import sys
import time

import torch
import torch.nn.functional as F
import torchvision
from torchvision.ops import batched_nms, roi_pool

from pytorch_train_step import NETWORKS, NUM_CLASSES, FastRcnn
from torchvision_ops import decode

SCALES = {"vgg16": (600, 1000), "small": (400, 666)}   # (shorter side, cap on the longer side)
MEAN, STD = (0.485, 0.456, 0.406), (0.229, 0.224, 0.225)
WEIGHTS = (10.0, 10.0, 5.0, 5.0)
STAGES = ["conv", "roi_pool", "fc6", "fc7", "outputs", "nms"]


def gen(seed):
    return torch.Generator().manual_seed(seed)


def init_like_fastrcnn(model, seed=0):
    """FastRcnnModel's initial weights: one generator, trunk convs, fc6, fc7, cls_score, bbox_pred."""
    g = gen(seed)
    with torch.no_grad():
        for m in model.features:
            if isinstance(m, torch.nn.Conv2d):
                fan_out = m.weight.shape[0] * m.weight.shape[2] * m.weight.shape[3]
                m.weight.normal_(0, math.sqrt(2.0 / fan_out), generator=g)
                m.bias.zero_()
        for fc in (model.fc6, model.fc7):
            fc.weight.normal_(0, math.sqrt(2.0 / fc.weight.shape[1]), generator=g)
            fc.bias.zero_()
        model.cls_score.weight.normal_(0, 0.01, generator=g)
        model.bbox_pred.weight.normal_(0, 0.001, generator=g)
        model.cls_score.bias.zero_()
        model.bbox_pred.bias.zero_()


def proposals(n, seed, h, w):
    g = gen(seed)
    x1 = torch.rand(n, generator=g) * (w - 32)
    y1 = torch.rand(n, generator=g) * (h - 32)
    bw = torch.rand(n, generator=g) * (w / 2 - 16) + 16
    bh = torch.rand(n, generator=g) * (2 * h / 3 - 16) + 16
    return torch.stack([x1, y1, torch.clamp(x1 + bw, max=w - 1), torch.clamp(y1 + bh, max=h - 1)], dim=1)


def scale_factor(h, w, short_side, max_size):
    s = short_side / min(h, w)
    if round(s * max(h, w)) > max_size:
        s = max_size / max(h, w)
    return s


def clip_boxes(boxes, h, w):
    r = boxes.shape[0]
    pairs = boxes.reshape(r, -1, 2)
    return torch.stack((pairs[..., 0].clamp(0, w), pairs[..., 1].clamp(0, h)), dim=2).reshape(r, -1)


def postprocess(probs, boxes, score_thresh=0.05, nms_thresh=0.3, detections=100, min_size=1e-2):
    """torchvision RoIHeads.postprocess_detections for one image (class 0 = background)."""
    r, k1 = probs.shape
    boxes = boxes.reshape(r, k1, 4)[:, 1:].reshape(-1, 4)
    labels = torch.arange(1, k1).expand(r, k1 - 1).reshape(-1)
    scores = probs[:, 1:].reshape(-1)
    inds = torch.where(scores > score_thresh)[0]
    boxes, scores, labels = boxes[inds], scores[inds], labels[inds]
    ws, hs = boxes[:, 2] - boxes[:, 0], boxes[:, 3] - boxes[:, 1]
    keep = torch.where((ws >= min_size) & (hs >= min_size))[0]
    boxes, scores, labels = boxes[keep], scores[keep], labels[keep]
    keep = batched_nms(boxes, scores, labels, nms_thresh)[:detections]
    return boxes[keep], scores[keep], labels[keep]


def detect(model, rgb, props, short_side, max_size):
    """One image (3,H,W) 0-255 with proposals (R,4): detections and per-stage milliseconds."""
    times = {}
    t = time.perf_counter()

    def lap(name):
        nonlocal t
        now = time.perf_counter()
        times[name] = (now - t) * 1e3
        t = now

    h, w = rgb.shape[1:]
    s = scale_factor(h, w, short_side, max_size)
    x = rgb.unsqueeze(0)
    sh, sw = round(h * s), round(w * s)
    if (sh, sw) != (h, w):
        x = F.interpolate(x, size=(sh, sw), mode="bilinear", align_corners=False)
    x = (x / 255.0 - torch.tensor(MEAN).view(1, 3, 1, 1)) / torch.tensor(STD).view(1, 3, 1, 1)
    features = model.features(x)
    lap("conv")
    rois = torch.cat([torch.zeros(props.shape[0], 1), props * s], dim=1)
    pooled = roi_pool(features, rois, (model.pooled, model.pooled), 1.0 / 16)
    lap("roi_pool")
    x6 = F.relu(model.fc6(pooled.flatten(1)))
    lap("fc6")
    x7 = F.relu(model.fc7(x6))
    lap("fc7")
    probs = F.softmax(model.cls_score(x7), dim=1)
    boxes = clip_boxes(decode(model.bbox_pred(x7), props, WEIGHTS), h, w)
    lap("outputs")
    dets = postprocess(probs, boxes)
    lap("nms")
    return dets, times, pooled


def factor(linear, rank):
    """Truncated SVD (float64) of a linear layer: (S_t V_t^T, U_t, bias)."""
    u, s, vh = torch.linalg.svd(linear.weight.double(), full_matrices=False)
    first = (s[:rank, None] * vh[:rank]).float()
    second = u[:, :rank].contiguous().float()
    return first, second, linear.bias.detach().clone()


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--network", choices=sorted(NETWORKS), required=True)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--images", type=int, default=5)
    ap.add_argument("--warmup", type=int, default=1)
    ap.add_argument("--proposals", type=int, default=2000)
    ap.add_argument("--svd", default=None, help="fc6,fc7 ranks, e.g. 1024,256")
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    h, w = NETWORKS[args.network][:2]
    short_side, max_size = SCALES[args.network]
    model = FastRcnn(args.network)
    init_like_fastrcnn(model)
    model.eval()
    props = proposals(args.proposals, 1, h, w)
    samples = {name: [] for name in STAGES + ["total", "cpu"]}
    counts, score_sum = [], 0.0
    pooled = None
    with torch.no_grad():
        for j in range(args.warmup + args.images):
            rgb = torch.rand(3, h, w, generator=gen(100 + j)) * 255
            cpu, t0 = time.process_time(), time.perf_counter()
            (boxes, scores, labels), times, pooled = detect(model, rgb, props, short_side, max_size)
            total = (time.perf_counter() - t0) * 1e3
            cpu = (time.process_time() - cpu) * 1e3
            print(f"[pytorch_detect] {args.network} image {j + 1}: {total:.1f} ms, {boxes.shape[0]} detections "
                  + ", ".join(f"{k} {v:.1f}" for k, v in times.items()), file=sys.stderr, flush=True)
            if j < args.warmup:
                continue
            for name, ms in times.items():
                samples[name].append(ms)
            samples["total"].append(total)
            samples["cpu"].append(cpu)
            counts.append(int(boxes.shape[0]))
            if j == args.warmup:
                score_sum = float(scores.double().sum())
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0
    result = {
        "network": args.network,
        "side": "pytorch",
        "samples_ms": samples,
        "median_ms": {k: statistics.median(v) for k, v in samples.items()},
        "detections": counts,
        "peak_rss_mib": peak,
        "weights_checksum": sum(float(p.sum(dtype=torch.float64)) for p in model.parameters()),
        "score_sum": score_sum,
        "machine": {"torch": torch.__version__, "torchvision": torchvision.__version__,
                    "python": platform.python_version(), "threads": torch.get_num_threads(),
                    "logical_cpus": os.cpu_count()},
    }
    if args.svd:
        r6, r7 = (int(v) for v in args.svd.split(","))
        t0 = time.perf_counter()
        f6, f7 = factor(model.fc6, r6), factor(model.fc7, r7)
        result["svd_factor_s"] = time.perf_counter() - t0
        x = pooled.flatten(1)
        svd = {"fc6_svd": [], "fc7_svd": []}
        with torch.no_grad():
            for j in range(args.warmup + args.images):
                t0 = time.perf_counter()
                x6 = F.relu(F.linear(F.linear(x, f6[0]), f6[1], f6[2]))
                t1 = time.perf_counter()
                F.relu(F.linear(F.linear(x6, f7[0]), f7[1], f7[2]))
                t2 = time.perf_counter()
                if j >= args.warmup:
                    svd["fc6_svd"].append((t1 - t0) * 1e3)
                    svd["fc7_svd"].append((t2 - t1) * 1e3)
        result["svd_ranks"] = [r6, r7]
        result["samples_ms"].update(svd)
        result["median_ms"].update({k: statistics.median(v) for k, v in svd.items()})
    print(json.dumps(result))


if __name__ == "__main__":
    main()
