#!/usr/bin/env python3
"""Summaries of the GoalAnt PPO study: per candidate, return and final distance at several step counts.
usage: summarize.py OUTDIR RUN...   (RUN: an epg eval --out directory with config.json beside curves.csv)"""
import csv, json, os, sys

CHECKS = [50_000, 100_000, 200_000, 400_000, 600_000, 800_000, 1_000_000]
SMOOTH = 20  # windows of 512 steps averaged (10,240 steps of life)

def load(run):
    rows = list(csv.DictReader(open(os.path.join(run, "curves.csv"))))
    rows = [r for r in rows if r["method"] == "ppo-right"]
    for r in rows:
        for k in ("step", "return_mean", "distance_mean"):
            r[k] = float(r[k])
    return rows

def at(rows, step):
    idx = [i for i, r in enumerate(rows) if r["step"] <= step]
    if not idx or rows[idx[-1]]["step"] < step - 512:
        return None
    w = rows[max(0, idx[-1] - SMOOTH + 1): idx[-1] + 1]
    return (sum(r["return_mean"] for r in w) / len(w), sum(r["distance_mean"] for r in w) / len(w))

out = sys.argv[1]
os.makedirs(out, exist_ok=True)
lines = ["| candidate | start distance (m) | " + " | ".join(f"{c // 1000}k: return / distance" for c in CHECKS) + " | final as printed: return (last 3 episodes) / distance (last episode) |",
         "| --- | --- | " + " | ".join("---" for _ in CHECKS) + " | --- |"]
for run in sys.argv[2:]:
    name = os.path.basename(run.rstrip("/"))
    rows = load(run)
    s = json.load(open(os.path.join(run, "summary.json")))
    cells = []
    for c in CHECKS:
        v = at(rows, c)
        cells.append("" if v is None else f"{v[0]:.1f} / {v[1]:.2f}")
    lines.append(f"| {name} | {s['start_distance_mean']:.2f} | " + " | ".join(cells)
                 + f" | {s['final_return_mean']:.1f} ± {s['final_return_std']:.1f} / {s['final_distance_mean']:.2f} ± {s['final_distance_std']:.2f} |")
    # downsampled curve: every 8th window
    with open(os.path.join(out, f"{name}.csv"), "w") as f:
        f.write("step,return_mean,return_std,distance_mean,distance_std\n")
        src = list(csv.DictReader(open(os.path.join(run, "curves.csv"))))
        src = [r for r in src if r["method"] == "ppo-right"]
        for i, r in enumerate(src):
            if (i + 1) % 8 == 0 or i == len(src) - 1:
                f.write(f"{r['step']},{float(r['return_mean']):.2f},{float(r['return_std']):.2f},{float(r['distance_mean']):.3f},{float(r['distance_std']):.3f}\n")
# runs with per-learner distances (learner-distances-ppo-right.csv, summary.json's final_distances):
# the share of learner-windows within 0.5 m of the target and the mean distance / start distance
extra = ["", "| candidate | start distances (m) | final distances, last episode (m) | " + " | ".join(f"{c // 1000}k: within 0.5 m / distance over start" for c in CHECKS) + " |",
         "| --- | --- | --- | " + " | ".join("---" for _ in CHECKS) + " |"]
any_extra = False
for run in sys.argv[2:]:
    name = os.path.basename(run.rstrip("/"))
    path = os.path.join(run, "learner-distances-ppo-right.csv")
    s = json.load(open(os.path.join(run, "summary.json")))
    if not os.path.exists(path) or "final_distances" not in s:
        continue
    any_extra = True
    rows = [list(map(float, r)) for r in list(csv.reader(open(path)))[1:]]
    start = s["start_distances"]
    cells = []
    for c in CHECKS:
        idx = [i for i, r in enumerate(rows) if r[0] <= c]
        if not idx or rows[idx[-1]][0] < c - 512:
            cells.append("")
            continue
        w = rows[max(0, idx[-1] - SMOOTH + 1): idx[-1] + 1]
        ds = [d for r in w for d in r[1:]]
        within = sum(1 for d in ds if d <= 0.5) / len(ds)
        ratio = sum(r[1 + k] / start[k] for r in w for k in range(len(start))) / (len(w) * len(start))
        cells.append(f"{within:.2f} / {ratio:.2f}")
    extra.append(f"| {name} | " + ", ".join(f"{d:.2f}" for d in start) + " | " + ", ".join(f"{d:.2f}" for d in s["final_distances"]) + " | " + " | ".join(cells) + " |")
if any_extra:
    lines += extra
open(os.path.join(out, "summary.md"), "w").write("\n".join(lines) + "\n")
print("\n".join(lines))
