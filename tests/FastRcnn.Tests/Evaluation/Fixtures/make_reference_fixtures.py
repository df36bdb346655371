"""Records the reference evaluation scripts' numbers for seeded synthetic detection sets.

Writes reference_evaluation.json for EvaluationReferenceParityTests: per case, the images (id and
objects), the detections, and what these give, to the last bit:
  - COCO: pycocotools' COCOeval (bbox, area "all", maxDets 100: evaluateImg, accumulate, summarize;
    per-class AP as detectron2 reads it), transcribed below rule for rule in numpy (pycocotools itself
    is not needed: its bbox IoU is plain double arithmetic on the integer boxes used here);
  - VOC: py-faster-rcnn's voc_eval.py scoring (tp/fp arrays, rec, prec, voc_ap with and without the
    07 metric, np.mean over classes), with two deliberate differences that are the project's rules
    (SPEC §8): IoU >= 0.5 (the official devkit; voc_eval.py has > 0.5) and a stable sort by score
    (voc_eval.py's np.argsort(-confidence) is an unstable quicksort with no order to reproduce);
    COCO crowd regions are treated like difficult objects.
Boxes are small integers and scores exact binary fractions, so float32 inputs are the same numbers.
Many IoUs land exactly on thresholds (0.5, 0.75, 0.85, ...) and many scores tie.

Run with numpy 1.24 (python3 make_reference_fixtures.py); no other package is needed.
"""
import json
import random

import numpy as np

CASES = 150


def make_cases(seed=7):
    rnd = random.Random(seed)
    cases = []
    for _ in range(CASES):
        k = rnd.randint(1, 4)
        numeric_ids = rnd.random() < 0.7
        images = []
        for i in rnd.sample(range(1, 40), rnd.randint(1, 6)):
            objects = []
            for _ in range(rnd.randint(0, 6)):
                x1, y1 = rnd.randint(0, 40), rnd.randint(0, 40)
                w, h = rnd.choice([10, 20, 20, 40, 17]), rnd.choice([10, 20, 5, 30])
                objects.append([rnd.randint(1, k), x1, y1, x1 + w, y1 + h, int(rnd.random() < 0.1), int(rnd.random() < 0.08)])
            images.append([str(i) if numeric_ids else "im" + str(i), objects])
        dets = []
        for image_id, objects in images:
            for _ in range(rnd.randint(0, 10)):
                if objects and rnd.random() < 0.6:
                    o = rnd.choice(objects)
                    b = o[1:5]
                    r = rnd.random()
                    if r < 0.3:
                        pass  # exact
                    elif r < 0.6:  # narrower: IoU 0.85, 0.5, 0.75, ...
                        b = [b[0], b[1], b[0] + max(1, int((b[2] - b[0]) * rnd.choice([0.85, 0.5, 0.75, 0.9, 0.95, 0.6]))), b[3]]
                    else:
                        d = rnd.randint(-4, 4)
                        b = [b[0] + d, b[1], b[2] + d, b[3]]
                    cls = o[0] if rnd.random() < 0.85 else rnd.randint(1, k)
                else:
                    x1, y1 = rnd.randint(0, 60), rnd.randint(0, 60)
                    b = [x1, y1, x1 + rnd.randint(3, 30), y1 + rnd.randint(3, 30)]
                    cls = rnd.randint(1, k)
                dets.append([image_id, cls, rnd.choice([0.25, 0.5, 0.75, 0.875, 0.125, 0.3125, 0.5625])] + b)
        rnd.shuffle(dets)
        rnd.shuffle(images)
        cases.append({"k": k, "images": images, "dets": dets})
    return cases


def bbox_iou(d, g, crowd):
    """pycocotools' bbIou on (x1, y1, x2, y2) integer boxes (exact: the same doubles as from xywh)."""
    w = min(d[2], g[2]) - max(d[0], g[0])
    h = min(d[3], g[3]) - max(d[1], g[1])
    if w <= 0 or h <= 0:
        return 0.0
    i = float(w) * h
    da = float(d[2] - d[0]) * (d[3] - d[1])
    ga = float(g[2] - g[0]) * (g[3] - g[1])
    return i / (da if crowd else da + ga - i)


def coco_eval(case):
    k_count, images, dets = case["k"], case["images"], case["dets"]
    ids = [i for i, _ in images]
    numeric = all(i.isdigit() for i in ids)
    img_ids = sorted(ids, key=int if numeric else str)  # np.unique(p.imgIds)
    objects_of = dict((i, o) for i, o in images)
    iou_thrs = np.linspace(.5, 0.95, int(np.round((0.95 - .5) / .05)) + 1, endpoint=True)
    rec_thrs = np.linspace(.0, 1.00, int(np.round((1.00 - .0) / .01)) + 1, endpoint=True)
    t_count, r_count, max_det = len(iou_thrs), len(rec_thrs), 100
    precision = -np.ones((t_count, r_count, k_count))
    recall = -np.ones((t_count, k_count))
    for k in range(1, k_count + 1):
        evals = []
        for img in img_ids:
            gt = [o for o in objects_of[img] if o[0] == k]
            dt = [d for d in dets if d[0] == img and d[1] == k]
            if not gt and not dt:
                continue
            gt = [gt[i] for i in np.argsort([o[6] for o in gt], kind="mergesort")]
            dt = [dt[i] for i in np.argsort([-d[2] for d in dt], kind="mergesort")[0:max_det]]
            crowd = [o[6] for o in gt]
            ious = [[bbox_iou(d[3:7], g[1:5], g[6]) for g in gt] for d in dt]
            gtm = np.zeros((t_count, len(gt)))
            dtm = np.zeros((t_count, len(dt)))
            gt_ig = np.array(crowd)
            dt_ig = np.zeros((t_count, len(dt)))
            if gt and dt:
                for ti, t in enumerate(iou_thrs):
                    for di in range(len(dt)):
                        iou, m = min([t, 1 - 1e-10]), -1
                        for gi in range(len(gt)):
                            if gtm[ti, gi] > 0 and not crowd[gi]:
                                continue
                            if m > -1 and gt_ig[m] == 0 and gt_ig[gi] == 1:
                                break
                            if ious[di][gi] < iou:
                                continue
                            iou, m = ious[di][gi], gi
                        if m == -1:
                            continue
                        dt_ig[ti, di] = gt_ig[m]
                        dtm[ti, di] = m + 1
                        gtm[ti, m] = di + 1
            evals.append(([d[2] for d in dt], dtm, dt_ig, gt_ig))
        if not evals:
            continue
        scores = np.concatenate([e[0][0:max_det] for e in evals])
        order = np.argsort(-scores, kind="mergesort")
        dtm = np.concatenate([e[1][:, 0:max_det] for e in evals], axis=1)[:, order]
        dt_ig = np.concatenate([e[2][:, 0:max_det] for e in evals], axis=1)[:, order]
        gt_ig = np.concatenate([e[3] for e in evals])
        npig = np.count_nonzero(gt_ig == 0)
        if npig == 0:
            continue
        tps = np.logical_and(dtm, np.logical_not(dt_ig))
        fps = np.logical_and(np.logical_not(dtm), np.logical_not(dt_ig))
        tp_sum = np.cumsum(tps, axis=1).astype(dtype=float)
        fp_sum = np.cumsum(fps, axis=1).astype(dtype=float)
        for ti, (tp, fp) in enumerate(zip(tp_sum, fp_sum)):
            nd = len(tp)
            rc = tp / npig
            pr = (tp / (fp + tp + np.spacing(1))).tolist()
            q = [0.0] * r_count
            recall[ti, k - 1] = rc[-1] if nd else 0
            for i in range(nd - 1, 0, -1):
                if pr[i] > pr[i - 1]:
                    pr[i - 1] = pr[i]
            for ri, pi in enumerate(np.searchsorted(rc, rec_thrs, side="left")):
                if pi >= nd:
                    break
                q[ri] = pr[pi]
            precision[ti, :, k - 1] = np.array(q)

    def mean(s):
        s = s[s > -1]
        return None if len(s) == 0 else float(np.mean(s))

    summary = [mean(precision), mean(precision[[0]]), mean(precision[[5]]), mean(recall)]
    per_class = [mean(precision[:, :, k]) for k in range(k_count)]
    return summary, per_class


def voc_ap(rec, prec, use_07_metric):
    if use_07_metric:
        ap = 0.
        for t in np.arange(0., 1.1, 0.1):
            p = 0 if np.sum(rec >= t) == 0 else np.max(prec[rec >= t])
            ap = ap + p / 11.
        return ap
    mrec = np.concatenate(([0.], rec, [1.]))
    mpre = np.concatenate(([0.], prec, [0.]))
    for i in range(mpre.size - 1, 0, -1):
        mpre[i - 1] = np.maximum(mpre[i - 1], mpre[i])
    i = np.where(mrec[1:] != mrec[:-1])[0]
    return np.sum((mrec[i + 1] - mrec[i]) * mpre[i + 1])


def continuous_iou(a, b):
    w = min(a[2], b[2]) - max(a[0], b[0])
    h = min(a[3], b[3]) - max(a[1], b[1])
    if w <= 0 or h <= 0:
        return 0.0
    inter = float(w) * h
    return inter / (float(a[2] - a[0]) * (a[3] - a[1]) + float(b[2] - b[0]) * (b[3] - b[1]) - inter)


def voc_eval(case, use_07_metric):
    aps = []
    for k in range(1, case["k"] + 1):
        objects = dict((i, [o for o in objs if o[0] == k]) for i, objs in case["images"])
        taken = dict((i, [False] * len(o)) for i, o in objects.items())
        npos = sum(1 for objs in objects.values() for o in objs if not o[5] and not o[6])
        dets = [d for d in case["dets"] if d[1] == k]
        dets = [dets[i] for i in np.argsort([-d[2] for d in dets], kind="mergesort")]
        tp, fp = np.zeros(len(dets)), np.zeros(len(dets))
        for di, d in enumerate(dets):
            ovmax, jmax = -np.inf, -1
            for j, o in enumerate(objects[d[0]]):
                ov = continuous_iou(d[3:7], o[1:5])
                if ov > ovmax:
                    ovmax, jmax = ov, j
            if ovmax >= 0.5:
                o = objects[d[0]][jmax]
                if not o[5] and not o[6]:
                    if not taken[d[0]][jmax]:
                        tp[di] = 1.
                        taken[d[0]][jmax] = True
                    else:
                        fp[di] = 1.
            else:
                fp[di] = 1.
        if npos == 0:
            aps.append(None)
            continue
        fp, tp = np.cumsum(fp), np.cumsum(tp)
        rec = tp / float(npos)
        prec = tp / np.maximum(tp + fp, np.finfo(np.float64).eps)
        aps.append(float(voc_ap(rec, prec, use_07_metric)))
    defined = [a for a in aps if a is not None]
    return [float(np.mean(defined)) if defined else None] + aps


def main():
    cases = make_cases()
    for case in cases:
        summary, per_class = coco_eval(case)
        case["expected"] = {"coco": summary, "coco_classes": per_class,
                            "voc07": voc_eval(case, True), "voc10": voc_eval(case, False)}
    with open("reference_evaluation.json", "w") as f:
        json.dump({"numpy": np.__version__, "cases": cases}, f, separators=(",", ":"))


if __name__ == "__main__":
    main()
