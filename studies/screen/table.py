"""Prints docs/study.md's screening table from the screen studies' summary.json files.

Run the screen (each file in studies/screen/ into DIR/<name>):
    for f in studies/screen/*.toml; do spherelab study --config $f --out DIR/$(basename $f .toml); done
    python3 studies/screen/table.py DIR
"""
import glob, json, os, sys

root = sys.argv[1] if len(sys.argv) > 1 else "screen"
print("| screen | data | knob | ω | clean, % | baseline, % | cost = clean − baseline, points [95 % CI] | t | kNN cost [95 % CI] |")
print("|---|---|---|---|---|---|---|---|---|")
for path in sorted(glob.glob(os.path.join(root, "*", "summary.json"))):
    s = json.load(open(path))
    name = os.path.basename(os.path.dirname(path))
    cells = {(c["dataset"], c["omega"], tuple(map(tuple, c["axes"])), c["method"]): c for c in s["cells"]}
    for c in s["comparisons"]:
        if c["method"] != "clean":
            continue
        axes = tuple(map(tuple, c["axes"]))
        base = cells[(c["dataset"], c["omega"], axes, "baseline")]["probe_accuracy"]
        clean = cells[(c["dataset"], "0", axes, "clean")]["probe_accuracy"]
        p, k = c["probe_accuracy"], c["knn_accuracy"]
        t = p["mean_diff"] / (p["sd_diff"] / p["n"] ** 0.5) if p["sd_diff"] > 0 else float("nan")
        knob = "; ".join(f"{a} = {v}" for a, v in axes) or "base"
        print(
            f"| {name} | {c['dataset']} | {knob} | {c['omega']} "
            f"| {100*clean['mean']:.1f} ± {100*clean['sd']:.1f} | {100*base['mean']:.1f} ± {100*base['sd']:.1f} "
            f"| {100*p['mean_diff']:+.2f} [{100*p['ci95'][0]:+.2f}, {100*p['ci95'][1]:+.2f}] | {t:.1f} "
            f"| {100*k['mean_diff']:+.2f} [{100*k['ci95'][0]:+.2f}, {100*k['ci95'][1]:+.2f}] |"
        )
