#!/usr/bin/python3
"""Reference-peer timing of Faster R-CNN with torchvision's FasterRCNN (CPU).

The same detector as FastRcnn's `faster` benchmark
(bench/FastRcnn.Benchmarks/FasterRcnnBenchmark.cs), built from
torchvision.models.detection.FasterRCNN as a Python user would:

    /usr/bin/python3 bench/peers/torchvision_faster_rcnn.py --mode train|detect
        [--threads 2] [--iters 20] [--warmup 2]

Prints ONE JSON object on stdout (median seconds per iteration or
milliseconds per image, all samples, user + system CPU time, peak RSS in MiB
= ru_maxrss of this process, a weights checksum); progress goes to stderr.

Network (the `small` backbone of FastRcnn on Shapes, K = 8 classes + background):
  backbone   conv 3->32 5x5/2, 32->64, 64->128, 128->192 3x3/2, 192->256 3x3,
             each + ReLU; out_channels 256 at stride 16
  anchors    AnchorGenerator sizes (24, 48, 96, 192) x aspect ratios
             (0.5, 1, 2) on the one feature map (A = 12)
  RPN        RPNHead (3x3 conv 256->256, ReLU, 1x1 objectness A, 1x1 deltas 4A);
             fg IoU 0.7, bg IoU 0.3, 256 anchors per image, 50% positive;
             pre-NMS top 12000 / 6000 (train / test), NMS 0.7, post-NMS top
             2000 / 300
  RoI pool   torchvision.ops.RoIPool 5x5 at 1/16 (replaces MultiScaleRoIAlign)
  box head   fc6 6400->512, ReLU, dropout 0.5, fc7 512->512, ReLU, dropout 0.5
             (torchvision's TwoMLPHead has no dropout; FastRcnn's head has it)
  predictor  FastRCNNPredictor 512 -> 9 scores, 36 deltas
  RoI heads  64 RoIs per image, 25% positive, fg IoU 0.5, bg IoU < 0.5,
             ground truth appended to the proposals; test: score > 0.05,
             per-class NMS 0.3, top 100
  transform  size_divisible 1 (no padding); training: no resize
             (_skip_resize), mean 0 / std 1 (the inputs are already
             normalised, as FastRcnn's Loss takes them); detection: min_size
             400, max_size 666 (scale factor 1 for 400x600), ImageNet mean/std
             on x/255 as FastRcnn's TorchvisionRgb pixels

Weights are drawn as TwoStageModel draws them, from ONE torch.Generator seeded
0 in this order: trunk conv weights ~ N(0, 2/fan_out), fc6 and fc7 weights ~
N(0, 2/fan_in), cls_score ~ N(0, 0.01^2), bbox_pred ~ N(0, 0.001^2), then the
RPN head's conv, objectness and deltas ~ N(0, 0.01^2); biases 0. libtorch's
CPU generator gives both sides the same numbers (compare weights_checksum).

Training (N = 2 images of 400x600): images seed 0 ~ N(0,1) (2,3,H,W); ground
truth of image i: 5 boxes, seed 10 + i, x1 ~ U[0,W), y1 ~ U[0,H),
w ~ U[16, W/2), h ~ U[16, 2H/3), clipped at W-1, H-1; classes
1 + randint(0, 8), seed 20 + i. One iteration: forward with targets, sum of
the four losses, zero_grad, backward, SGD step (momentum 0.9; weights lr 0.001
and weight decay 0.0005, biases lr 0.002 and no decay).

Detection (one 400x600 image at a time, test mode, torch.no_grad()): image j
(warm-ups first) = 255 * U[0,1) of shape (3, H, W), seed 100 + j; timed: x/255,
model([x]) (transform, backbone, RPN with its 300 proposals, RoI heads,
postprocessing).
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
import torch.nn as nn
import torch.nn.functional as F
import torchvision
from torchvision.models.detection import FasterRCNN
from torchvision.models.detection.anchor_utils import AnchorGenerator
from torchvision.models.detection.faster_rcnn import FastRCNNPredictor
from torchvision.models.detection.rpn import RPNHead
from torchvision.ops import RoIPool

NUM_CLASSES = 8
H, W = 400, 600
POOLED = 5
MEAN, STD = [0.485, 0.456, 0.406], [0.229, 0.224, 0.225]


def gen(seed):
    return torch.Generator().manual_seed(seed)


def boxes(n, seed, h, w):
    g = gen(seed)
    x1 = torch.rand(n, generator=g) * w
    y1 = torch.rand(n, generator=g) * h
    bw = torch.rand(n, generator=g) * (w / 2 - 16) + 16
    bh = torch.rand(n, generator=g) * (2 * h / 3 - 16) + 16
    return torch.stack([x1, y1, torch.clamp(x1 + bw, max=w - 1), torch.clamp(y1 + bh, max=h - 1)], dim=1)


class SmallTrunk(nn.Sequential):
    def __init__(self):
        layers, c = [], 3
        for out, k, s in [(32, 5, 2), (64, 3, 2), (128, 3, 2), (192, 3, 2), (256, 3, 1)]:
            layers += [nn.Conv2d(c, out, k, stride=s, padding=k // 2), nn.ReLU(inplace=True)]
            c = out
        super().__init__(*layers)
        self.out_channels = 256


class RoIPoolBox(nn.Module):
    """torchvision.ops.RoIPool in the place of MultiScaleRoIAlign: (features dict, proposals list, image sizes)."""

    def __init__(self):
        super().__init__()
        self.pool = RoIPool((POOLED, POOLED), 1.0 / 16)

    def forward(self, features, proposals, image_shapes):
        return self.pool(features["0"], proposals)


class TwoMLPHeadWithDropout(nn.Module):
    """TwoMLPHead plus Fast R-CNN's dropout after fc6 and fc7 (FastRcnn's BoxHead)."""

    def __init__(self, in_channels, representation_size):
        super().__init__()
        self.fc6 = nn.Linear(in_channels, representation_size)
        self.fc7 = nn.Linear(representation_size, representation_size)

    def forward(self, x):
        x = F.dropout(F.relu(self.fc6(x.flatten(start_dim=1))), 0.5, self.training)
        return F.dropout(F.relu(self.fc7(x)), 0.5, self.training)


def build(mode):
    anchors = AnchorGenerator(sizes=((24, 48, 96, 192),), aspect_ratios=((0.5, 1.0, 2.0),))
    training = mode == "train"
    model = FasterRCNN(
        SmallTrunk(), num_classes=None,
        min_size=H, max_size=666,
        image_mean=[0.0, 0.0, 0.0] if training else MEAN, image_std=[1.0, 1.0, 1.0] if training else STD,
        rpn_anchor_generator=anchors, rpn_head=RPNHead(256, anchors.num_anchors_per_location()[0]),
        rpn_pre_nms_top_n_train=12000, rpn_pre_nms_top_n_test=6000,
        rpn_post_nms_top_n_train=2000, rpn_post_nms_top_n_test=300, rpn_nms_thresh=0.7,
        rpn_fg_iou_thresh=0.7, rpn_bg_iou_thresh=0.3, rpn_batch_size_per_image=256, rpn_positive_fraction=0.5,
        box_head=TwoMLPHeadWithDropout(256 * POOLED * POOLED, 512),
        box_predictor=FastRCNNPredictor(512, NUM_CLASSES + 1),
        box_score_thresh=0.05, box_nms_thresh=0.3, box_detections_per_img=100,
        box_fg_iou_thresh=0.5, box_bg_iou_thresh=0.5, box_batch_size_per_image=64, box_positive_fraction=0.25,
        size_divisible=1, _skip_resize=True,
    )
    # FasterRCNN's constructor accepts only MultiScaleRoIAlign (or None: its default); RoI max pooling replaces it.
    model.roi_heads.box_roi_pool = RoIPoolBox()
    init_like_fastrcnn(model)
    return model


def init_like_fastrcnn(model, seed=0):
    """TwoStageModel's initial weights: one generator; trunk convs, fc6, fc7, cls_score, bbox_pred, RPN head."""
    g = gen(seed)
    head = model.roi_heads.box_head
    predictor = model.roi_heads.box_predictor
    rpn = model.rpn.head
    with torch.no_grad():
        for m in model.backbone:
            if isinstance(m, nn.Conv2d):
                fan_out = m.weight.shape[0] * m.weight.shape[2] * m.weight.shape[3]
                m.weight.normal_(0, math.sqrt(2.0 / fan_out), generator=g)
                m.bias.zero_()
        for fc in (head.fc6, head.fc7):
            fc.weight.normal_(0, math.sqrt(2.0 / fc.weight.shape[1]), generator=g)
            fc.bias.zero_()
        predictor.cls_score.weight.normal_(0, 0.01, generator=g)
        predictor.bbox_pred.weight.normal_(0, 0.001, generator=g)
        predictor.cls_score.bias.zero_()
        predictor.bbox_pred.bias.zero_()
        for conv in (rpn.conv[0][0] if isinstance(rpn.conv[0], nn.Sequential) else rpn.conv, rpn.cls_logits, rpn.bbox_pred):
            conv.weight.normal_(0, 0.01, generator=g)
            conv.bias.zero_()


def cpu_seconds():
    ru = resource.getrusage(resource.RUSAGE_SELF)
    return ru.ru_utime + ru.ru_stime


def train(model, args):
    model.train()
    weights = [p for n, p in model.named_parameters() if p.requires_grad and not n.endswith("bias")]
    biases = [p for n, p in model.named_parameters() if p.requires_grad and n.endswith("bias")]
    optimizer = torch.optim.SGD([
        {"params": weights, "lr": 0.001, "weight_decay": 0.0005},
        {"params": biases, "lr": 0.002, "weight_decay": 0.0},
    ], lr=0.001, momentum=0.9)
    batch = torch.randn(2, 3, H, W, generator=gen(0))
    images = [batch[0], batch[1]]
    targets = [{"boxes": boxes(5, 10 + i, H, W), "labels": 1 + torch.randint(0, NUM_CLASSES, (5,), generator=gen(20 + i))}
               for i in range(2)]
    samples, losses, cpu_start = [], [], 0.0
    for it in range(args.warmup + args.iters):
        if it == args.warmup:
            cpu_start = cpu_seconds()
        t0 = time.perf_counter()
        loss_dict = model(images, targets)
        loss = sum(loss_dict.values())
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        dt = time.perf_counter() - t0
        losses.append(float(loss))
        print(f"[torchvision_faster_rcnn] train iteration {it + 1}: {dt:.3f} s, loss {losses[-1]:.4f}", file=sys.stderr, flush=True)
        if it >= args.warmup:
            samples.append(dt)
    return {"median_s": statistics.median(samples), "samples_s": samples, "losses": losses,
            "cpu_s_per_iteration": (cpu_seconds() - cpu_start) / args.iters}


def detect(model, args):
    model.eval()
    samples, cpu, detections, proposals = [], [], [], []
    proposal_counts = []
    hook = model.rpn.register_forward_hook(lambda m, i, o: proposal_counts.append(int(o[0][0].shape[0])))
    with torch.no_grad():
        for j in range(args.warmup + args.iters):
            rgb = torch.rand(3, H, W, generator=gen(100 + j)) * 255
            c0 = cpu_seconds()
            t0 = time.perf_counter()
            out = model([rgb / 255])[0]
            ms = (time.perf_counter() - t0) * 1e3
            c1 = cpu_seconds()
            print(f"[torchvision_faster_rcnn] detect image {j + 1}: {ms:.1f} ms, {out['boxes'].shape[0]} detections, "
                  f"{proposal_counts[-1]} proposals", file=sys.stderr, flush=True)
            if j >= args.warmup:
                samples.append(ms)
                cpu.append((c1 - c0) * 1e3)
                detections.append(int(out["boxes"].shape[0]))
                proposals.append(proposal_counts[-1])
    hook.remove()
    return {"median_ms": statistics.median(samples), "samples_ms": samples, "cpu_ms": cpu,
            "detections": detections, "proposals": proposals}


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--mode", choices=["train", "detect"], required=True)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--iters", type=int, default=20)
    ap.add_argument("--warmup", type=int, default=2)
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    torch.manual_seed(0)
    model = build(args.mode)
    checksum = sum(float(p.detach().double().sum()) for p in model.parameters())
    result = train(model, args) if args.mode == "train" else detect(model, args)
    result.update({
        "side": "torchvision", "mode": args.mode,
        "peak_rss_mib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0,
        "weights_checksum": checksum,
        "machine": {"torch": torch.__version__, "torchvision": torchvision.__version__,
                    "python": platform.python_version(), "threads": torch.get_num_threads(),
                    "logical_cpus": os.cpu_count()},
    })
    print(json.dumps(result))


if __name__ == "__main__":
    main()
