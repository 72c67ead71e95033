#!/usr/bin/env python3
"""An SVG line chart (no dependencies) of PPO's mean final distance to the target against steps of life.
usage: plot_distance.py OUT.svg TITLE LABEL=CURVE.csv[:START] ...
CURVE.csv: summarize.py's NAME.csv (step, ..., distance_mean); START: the run's mean start distance (dashed line).
Each curve is smoothed by a moving average over 5 points (20,480 steps of life)."""
import csv, sys

W, H, L, R, T, B = 760, 420, 60, 200, 40, 50
COLORS = ["#1f77b4", "#d62728", "#2ca02c", "#9467bd", "#ff7f0e", "#8c564b", "#17becf"]

def load(path):
    rows = list(csv.DictReader(open(path)))
    xs = [float(r["step"]) for r in rows]
    ys = [float(r["distance_mean"]) for r in rows]
    sm = [sum(ys[max(0, i - 4): i + 1]) / len(ys[max(0, i - 4): i + 1]) for i in range(len(ys))]
    return xs, sm

out, title, specs = sys.argv[1], sys.argv[2], sys.argv[3:]
series = []
for spec in specs:
    label, rest = spec.split("=", 1)
    path, _, start = rest.partition(":")
    xs, ys = load(path)
    series.append((label, xs, ys, float(start) if start else None))
xmax = max(max(s[1]) for s in series)
ymax = max(max(max(s[2]) for s in series), max((s[3] or 0) for s in series)) * 1.05
px = lambda x: L + (W - L - R) * x / xmax
py = lambda y: T + (H - T - B) * (1 - y / ymax)
svg = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{W}" height="{H}" font-family="sans-serif" font-size="12">',
       f'<rect width="{W}" height="{H}" fill="white"/>',
       f'<text x="{W / 2 - R / 2}" y="20" text-anchor="middle" font-size="14">{title}</text>']
for i in range(6):
    y = ymax * i / 5
    svg.append(f'<line x1="{L}" x2="{W - R}" y1="{py(y):.1f}" y2="{py(y):.1f}" stroke="#ddd"/>')
    svg.append(f'<text x="{L - 6}" y="{py(y) + 4:.1f}" text-anchor="end">{y:.1f}</text>')
for i in range(6):
    x = xmax * i / 5
    svg.append(f'<text x="{px(x):.1f}" y="{H - B + 18}" text-anchor="middle">{x / 1000:.0f}k</text>')
svg.append(f'<text x="{(L + W - R) / 2}" y="{H - 10}" text-anchor="middle">steps of life</text>')
svg.append(f'<text x="16" y="{(T + H - B) / 2}" text-anchor="middle" transform="rotate(-90 16 {(T + H - B) / 2})">distance to target (m), last episode</text>')
svg.append(f'<rect x="{L}" y="{T}" width="{W - L - R}" height="{H - T - B}" fill="none" stroke="#333"/>')
for k, (label, xs, ys, start) in enumerate(series):
    c = COLORS[k % len(COLORS)]
    pts = " ".join(f"{px(x):.1f},{py(y):.1f}" for x, y in zip(xs, ys))
    svg.append(f'<polyline points="{pts}" fill="none" stroke="{c}" stroke-width="1.6"/>')
    if start is not None:
        svg.append(f'<line x1="{L}" x2="{W - R}" y1="{py(start):.1f}" y2="{py(start):.1f}" stroke="{c}" stroke-dasharray="4 4" stroke-width="1"/>')
    ly = T + 16 + 18 * k
    svg.append(f'<line x1="{W - R + 10}" x2="{W - R + 30}" y1="{ly - 4}" y2="{ly - 4}" stroke="{c}" stroke-width="2"/>')
    svg.append(f'<text x="{W - R + 36}" y="{ly}">{label}</text>')
svg.append(f'<text x="{W - R + 10}" y="{T + 16 + 18 * len(series) + 10}" fill="#555">dashed: start distance</text>')
svg.append("</svg>")
open(out, "w").write("\n".join(svg) + "\n")
