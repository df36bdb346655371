#!/usr/bin/python3
"""Reference-peer timing of one Fast R-CNN training iteration in PyTorch (CPU).

The same network and the same iteration as FastRcnn's `train` benchmark
(bench/FastRcnn.Benchmarks/TrainStepBenchmark.cs), written with torch and
torchvision as a Python user would:

    /usr/bin/python3 bench/peers/pytorch_train_step.py --network vgg16|small
        [--threads 2] [--iters 5] [--warmup 2]

Prints ONE JSON object on stdout (median seconds per iteration, all samples,
user + system CPU seconds per timed iteration, peak RSS in MiB = ru_maxrss of
this process); progress goes to stderr.

Network
  vgg16  torchvision.models.vgg16().features without its last max-pool
         (features[:30], conv5_3 at stride 16), conv1_1-conv2_2 frozen
         (features.0-7, requires_grad False); RoI pooling
         torchvision.ops.roi_pool 7x7 at 1/16; fc6 25088->4096, ReLU, dropout
         0.5, fc7 4096->4096, ReLU, dropout 0.5; cls_score 4096->K+1,
         bbox_pred 4096->4(K+1). Image 600x1000 (HxW).
  small  FastRcnn's Shapes trunk: conv 3->32 5x5/2, 32->64, 64->128, 128->192
         3x3/2, 192->256 3x3, each + ReLU; roi_pool 5x5 at 1/16; fc6
         6400->512, fc7 512->512 with dropout; nothing frozen. Image 400x600.
  K = 20 object classes (VOC). Random weights (He normal), seed 0.

One iteration (N = 2 images, R = 2 x 64 = 128 RoIs), as FastRcnnModel.Loss:
  per image: ground truth appended to its 2000 proposals; IoU with the ground
  truth; foreground IoU >= 0.5 (up to 16, randperm), background IoU in
  [0.1, 0.5) fills the 64; class-specific regression targets with BoxCoder
  weights (10, 10, 5, 5); then conv forward of the (2,3,H,W) batch, roi_pool of
  the 128 RoIs, head, loss = cross_entropy(mean) + smooth_l1(sum, beta 1)/R,
  zero_grad, backward, SGD step (momentum 0.9; weights lr 0.001 and weight decay
  0.0005, biases lr 0.002 and no decay).

Inputs (libtorch's CPU generator gives the C# side the same numbers): images
seed 0 ~ N(0,1) (2,3,H,W); proposals of image i: boxes(2000, seed 1 + i) with
x1 ~ U[0,W), y1 ~ U[0,H), w ~ U[16, W/2), h ~ U[16, 2H/3), x2 = min(x1+w, W-1),
y2 = min(y1+h, H-1); ground truth of image i: boxes(5, seed 10 + i), classes
1 + (randint(0, 20), seed 20 + i).
"""
import argparse
import json
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
from torchvision.ops import box_iou, roi_pool

NUM_CLASSES = 20
NETWORKS = {
    # name: (H, W, pooled size, fc6 width, fc7 width)
    "vgg16": (600, 1000, 7, 4096, 4096),
    "small": (400, 600, 5, 512, 512),
}


def gen(seed):
    return torch.Generator().manual_seed(seed)


def boxes(n, seed, h, w):
    g = gen(seed)
    x1 = torch.rand(n, generator=g) * w
    y1 = torch.rand(n, generator=g) * h
    bw = torch.rand(n, generator=g) * (w / 2 - 16) + 16
    bh = torch.rand(n, generator=g) * (2 * h / 3 - 16) + 16
    return torch.stack([x1, y1, torch.clamp(x1 + bw, max=w - 1), torch.clamp(y1 + bh, max=h - 1)], dim=1)


def small_trunk():
    layers, c = [], 3
    for out, k, s in [(32, 5, 2), (64, 3, 2), (128, 3, 2), (192, 3, 2), (256, 3, 1)]:
        layers += [nn.Conv2d(c, out, k, stride=s, padding=k // 2), nn.ReLU(inplace=True)]
        c = out
    return nn.Sequential(*layers)


class FastRcnn(nn.Module):
    def __init__(self, network):
        super().__init__()
        _, _, pooled, fc6, fc7 = NETWORKS[network]
        if network == "vgg16":
            self.features = torchvision.models.vgg16().features[:30]
            channels = 512
        else:
            self.features = small_trunk()
            channels = 256
        self.pooled = pooled
        self.fc6 = nn.Linear(channels * pooled * pooled, fc6)
        self.fc7 = nn.Linear(fc6, fc7)
        self.cls_score = nn.Linear(fc7, NUM_CLASSES + 1)
        self.bbox_pred = nn.Linear(fc7, 4 * (NUM_CLASSES + 1))
        for m in self.modules():
            if isinstance(m, (nn.Conv2d, nn.Linear)):
                nn.init.kaiming_normal_(m.weight, mode="fan_out" if isinstance(m, nn.Conv2d) else "fan_in")
                nn.init.zeros_(m.bias)
        nn.init.normal_(self.cls_score.weight, std=0.01)
        nn.init.normal_(self.bbox_pred.weight, std=0.001)
        if network == "vgg16":
            for i in range(8):  # conv1_1 .. conv2_2
                for p in self.features[i].parameters():
                    p.requires_grad_(False)

    def forward(self, images, rois):
        x = roi_pool(self.features(images), rois, (self.pooled, self.pooled), 1.0 / 16).flatten(1)
        x = F.dropout(F.relu(self.fc6(x), inplace=True), 0.5, self.training)
        x = F.dropout(F.relu(self.fc7(x), inplace=True), 0.5, self.training)
        return self.cls_score(x), self.bbox_pred(x)


def encode(proposals, gt, weights=(10.0, 10.0, 5.0, 5.0)):
    pw, ph = proposals[:, 2] - proposals[:, 0], proposals[:, 3] - proposals[:, 1]
    px, py = proposals[:, 0] + 0.5 * pw, proposals[:, 1] + 0.5 * ph
    gw, gh = gt[:, 2] - gt[:, 0], gt[:, 3] - gt[:, 1]
    gx, gy = gt[:, 0] + 0.5 * gw, gt[:, 1] + 0.5 * gh
    wx, wy, ww, wh = weights
    return torch.stack([wx * (gx - px) / pw, wy * (gy - py) / ph, ww * torch.log(gw / pw), wh * torch.log(gh / ph)], dim=1)


def sample(proposals, gt_boxes, gt_classes, rois_per_image=64, fg_fraction=0.25):
    """The RoI sampler of FastRcnn (and of the original): fg IoU >= 0.5, bg IoU in [0.1, 0.5)."""
    boxes_all = torch.cat([proposals, gt_boxes], 0)
    max_iou, matched = box_iou(boxes_all, gt_boxes).max(1)
    fg = torch.nonzero(max_iou >= 0.5).flatten()
    bg = torch.nonzero((max_iou < 0.5) & (max_iou >= 0.1)).flatten()
    fg_quota = int(round(fg_fraction * rois_per_image))
    if fg.numel() > fg_quota:
        fg = fg[torch.randperm(fg.numel())[:fg_quota]]
    bg_quota = rois_per_image - fg.numel()
    if bg.numel() > bg_quota:
        bg = bg[torch.randperm(bg.numel())[:bg_quota]]
    keep = torch.cat([fg, bg])
    classes = gt_classes[matched[keep]].clone()
    classes[fg.numel():] = 0
    return boxes_all[keep], classes, gt_boxes[matched[keep]], fg.numel()


def training_step(model, optimizer, images, targets):
    rois, labels, reg_targets, reg_weights = [], [], [], []
    for i, (proposals, gt_boxes, gt_classes) in enumerate(targets):
        with torch.no_grad():
            b, c, m, nfg = sample(proposals, gt_boxes, gt_classes)
            t = torch.zeros(b.shape[0], 4 * (NUM_CLASSES + 1))
            w = torch.zeros_like(t)
            if nfg > 0:
                cols = (c[:nfg] * 4).unsqueeze(1) + torch.arange(4)
                t[:nfg].scatter_(1, cols, encode(b[:nfg], m[:nfg]))
                w[:nfg].scatter_(1, cols, 1.0)
        rois.append(torch.cat([torch.full((b.shape[0], 1), float(i)), b], 1))
        labels.append(c)
        reg_targets.append(t)
        reg_weights.append(w)
    rois, labels = torch.cat(rois), torch.cat(labels)
    reg_targets, reg_weights = torch.cat(reg_targets), torch.cat(reg_weights)
    logits, deltas = model(images, rois)
    loss = F.cross_entropy(logits, labels) + \
        F.smooth_l1_loss(deltas * reg_weights, reg_targets * reg_weights, reduction="sum", beta=1.0) / rois.shape[0]
    optimizer.zero_grad()
    loss.backward()
    optimizer.step()
    return float(loss)


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--network", choices=sorted(NETWORKS), required=True)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--iters", type=int, default=5)
    ap.add_argument("--warmup", type=int, default=2)
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    torch.manual_seed(0)
    h, w = NETWORKS[args.network][:2]
    model = FastRcnn(args.network)
    model.train()
    weights = [p for n, p in model.named_parameters() if p.requires_grad and not n.endswith("bias")]
    biases = [p for n, p in model.named_parameters() if p.requires_grad and n.endswith("bias")]
    optimizer = torch.optim.SGD([
        {"params": weights, "lr": 0.001, "weight_decay": 0.0005},
        {"params": biases, "lr": 0.002, "weight_decay": 0.0},
    ], lr=0.001, momentum=0.9)
    images = torch.randn(2, 3, h, w, generator=gen(0))
    targets = [(boxes(2000, 1 + i, h, w), boxes(5, 10 + i, h, w),
                1 + torch.randint(0, NUM_CLASSES, (5,), generator=gen(20 + i))) for i in range(2)]
    samples, losses = [], []
    cpu_start = 0.0
    for it in range(args.warmup + args.iters):
        if it == args.warmup:
            ru = resource.getrusage(resource.RUSAGE_SELF)
            cpu_start = ru.ru_utime + ru.ru_stime
        t0 = time.perf_counter()
        losses.append(training_step(model, optimizer, images, targets))
        dt = time.perf_counter() - t0
        print(f"[pytorch_train_step] {args.network} iteration {it + 1}: {dt:.3f} s, loss {losses[-1]:.4f}",
              file=sys.stderr, flush=True)
        if it >= args.warmup:
            samples.append(dt)
    ru = resource.getrusage(resource.RUSAGE_SELF)
    print(json.dumps({
        "network": args.network,
        "median_s": statistics.median(samples),
        "samples_s": samples,
        "losses": losses,
        "peak_rss_mib": ru.ru_maxrss / 1024.0,
        "cpu_s_per_iteration": (ru.ru_utime + ru.ru_stime - cpu_start) / args.iters,
        "machine": {"torch": torch.__version__, "torchvision": torchvision.__version__,
                    "python": platform.python_version(), "threads": torch.get_num_threads(),
                    "logical_cpus": os.cpu_count()},
    }))


if __name__ == "__main__":
    main()
