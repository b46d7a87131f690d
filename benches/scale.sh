#!/usr/bin/env bash
# Scaling of a whole `build_cells` run with the number of points.
#
#   benches/scale.sh                    # 100k, 1M and 5M points (the defaults)
#   benches/scale.sh 20000 100000       # any sizes, smallest first (k and M suffixes work: 1M)
#   GEOCELLS_SCALE_SIZES="100k 1M" benches/scale.sh
#
# Builds the release examples once, generates seeded points with `make_points` (cached as
# target/scale/points_N.parquet; delete them after changing make_points or the synth module),
# runs `build_cells --points ... --preset pigeotto --out target/scale/out_N --quiet` under
# /usr/bin/time for each size, and collects wall seconds, peak RSS and the per-stage
# `timings_s` of each report.json. The scaling exponent between consecutive sizes is
# log(t2/t1) / log(n2/n1) (1 = linear). The table goes to stdout and, between the markers
# `<!-- scale:begin -->` and `<!-- scale:end -->`, into docs/performance.md (section
# "## Scaling (benches/scale.sh)", appended when absent); a re-run replaces it.
#
# Environment: GEOCELLS_SCALE_SIZES (sizes when no arguments are given), GEOCELLS_SCALE_PRESET
# (default pigeotto), GEOCELLS_SCALE_NOTE (a line printed above the table), GEOCELLS_SCALE_DOC
# (the markdown file to update, default docs/performance.md; empty: do not write it).
# Needs cargo, python3 and /usr/bin/time. Run it on an otherwise idle machine.

set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"

preset="${GEOCELLS_SCALE_PRESET:-pigeotto}"
doc="${GEOCELLS_SCALE_DOC-docs/performance.md}"
note="${GEOCELLS_SCALE_NOTE:-}"
work="target/scale"

if [[ $# -gt 0 ]]; then
    raw=("$@")
else
    read -r -a raw <<<"$(tr ',' ' ' <<<"${GEOCELLS_SCALE_SIZES:-100000 1000000 5000000}")"
fi

# Sizes as integers; 100k, 1M, 1.5M accepted.
sizes=()
for s in "${raw[@]}"; do
    n="$(python3 -c '
import sys
s = sys.argv[1].strip().replace("_", "")
mult = {"k": 1_000, "K": 1_000, "m": 1_000_000, "M": 1_000_000}.get(s[-1:], 1)
if mult != 1:
    s = s[:-1]
try:
    v = float(s) * mult
except ValueError:
    sys.exit(f"not a point count: {sys.argv[1]!r}")
if v < 1 or v != int(v):
    sys.exit(f"not a positive whole point count: {sys.argv[1]!r}")
print(int(v))
' "$s")"
    sizes+=("$n")
done
if [[ ${#sizes[@]} -eq 0 ]]; then
    echo "scale.sh: no sizes given" >&2
    exit 2
fi

if [[ ! -x /usr/bin/time ]]; then
    echo "scale.sh: /usr/bin/time is needed (apt-get install time)" >&2
    exit 2
fi

mkdir -p "$work"
echo "== building release examples (make_points, build_cells)" >&2
cargo build --release --quiet --example make_points --example build_cells
bin="target/release/examples"

# Machine and commit, recorded before the runs.
commit="$(git rev-parse --short HEAD 2>/dev/null || echo unknown)"
if ! git diff --quiet HEAD -- geocells examples Cargo.toml Cargo.lock 2>/dev/null; then
    commit="$commit + uncommitted changes"
fi
load="$(cut -d' ' -f1-3 /proc/loadavg)"
machine="$(nproc) cores, $(awk '/MemTotal/ {printf "%.1f GiB", $2 / 1048576}' /proc/meminfo)"
cpu="$(awk -F': ' '/model name/ {print $2; exit}' /proc/cpuinfo 2>/dev/null || true)"
[[ -n "$cpu" ]] && machine="$machine ($cpu)"
started="$(date -u '+%Y-%m-%d %H:%M UTC')"

for n in "${sizes[@]}"; do
    pts="$work/points_$n.parquet"
    if [[ ! -s "$pts" ]]; then
        echo "== make_points $n -> $pts" >&2
        "$bin/make_points" "$n" "$pts.tmp" >&2
        mv "$pts.tmp" "$pts"
    else
        echo "== $pts (cached)" >&2
    fi
    out="$work/out_$n"
    echo "== build_cells $n points, preset $preset" >&2
    /usr/bin/time -f "%e %M" -o "$work/time_$n.txt" \
        "$bin/build_cells" --points "$pts" --preset "$preset" --out "$out" --quiet \
        >"$work/build_$n.log" 2>&1 || {
        echo "scale.sh: build_cells failed for $n points; see $work/build_$n.log" >&2
        tail -20 "$work/build_$n.log" >&2
        exit 1
    }
    echo "   $(cat "$work/time_$n.txt") (s, KB)" >&2
done

cmd="benches/scale.sh ${sizes[*]}"
if [[ "$preset" != pigeotto ]]; then
    cmd="GEOCELLS_SCALE_PRESET=$preset $cmd"
fi
python3 - "$work" "$doc" "$cmd" "$preset" "$started" "$commit" "$machine" "$load" "$note" \
    "${sizes[@]}" <<'PY'
import json, math, os, sys

work, doc, cmd, preset, started, commit, machine, load, note = sys.argv[1:10]
sizes = [int(s) for s in sys.argv[10:]]

runs = []
for n in sizes:
    with open(os.path.join(work, f"time_{n}.txt")) as f:
        # The figures are the last two words ("%e %M").
        wall, rss_kb = f.read().split()[-2:]
    with open(os.path.join(work, f"out_{n}", "report.json")) as f:
        report = json.load(f)
    runs.append({"n": n, "wall": float(wall), "rss_mb": float(rss_kb) / 1024,
                 "t": report.get("timings_s", {}), "counts": report.get("counts", {})})

# Stages in pipeline order, then any others the reports name.
order = ["read_points", "read_boundaries", "assign", "graph", "fuse", "build_cells", "split"]
keys = set().union(*(r["t"].keys() for r in runs))
stages = [k for k in order if k in keys]
stages += sorted(k for k in keys if k.startswith("split_optics_"))
stages += [k for k in ["split_fallback", "validate", "export"] if k in keys]
stages += sorted(keys - set(stages))

def fmt_n(n):
    if n >= 1_000_000 and n % 100_000 == 0:
        return f"{n / 1_000_000:g}M"
    if n >= 1_000 and n % 1_000 == 0:
        return f"{n // 1_000}k"
    return f"{n:,}"

def fmt_v(v, digits):
    if v is None:
        return "–"
    return f"{v:,.{digits}f}"

def exponent(a, b, na, nb):
    if a is None or b is None or a <= 0 or b <= 0 or na == nb:
        return "–"
    return f"{math.log(b / a) / math.log(nb / na):.2f}"

rows = [("**wall** (s)", [r["wall"] for r in runs], 2),
        ("peak RSS (MiB)", [r["rss_mb"] for r in runs], 0)]
for k in stages:
    label = k
    if k.startswith("split_optics_"):
        _, _, i, m, xi = k.split("_", 4)
        label = f"split: OPTICS {i} ({m}, {xi})"
    elif k == "split":
        label = "split (total)"
    elif k == "split_fallback":
        label = "split: MAX fallback"
    rows.append((label, [r["t"].get(k) for r in runs], 3))
for key, label in (("points_labelled", "points labelled"), ("admin_cells", "admin cells"),
                   ("cells", "cells")):
    rows.append((label, [r["counts"].get(key) for r in runs], 0))

pairs = list(zip(range(len(runs)), range(1, len(runs))))
head = ["", *[fmt_n(r["n"]) for r in runs], *[f"k {fmt_n(runs[a]['n'])}→{fmt_n(runs[b]['n'])}" for a, b in pairs]]
lines = ["| " + " | ".join(head) + " |", "| --- |" + " ---: |" * (len(head) - 1)]
for label, vals, digits in rows:
    cells = [fmt_v(v, digits) for v in vals]
    cells += [exponent(vals[a], vals[b], runs[a]["n"], runs[b]["n"]) for a, b in pairs]
    lines.append("| " + " | ".join([label, *cells]) + " |")

block = []
if note:
    block += [f"**{note}**", ""]
block += ["```bash", cmd, "```", "",
          f"{started}, commit {commit}, {machine}; load average at the start {load}. "
          f"`build_cells --points target/scale/points_N.parquet --preset {preset} --quiet` under "
          f"`/usr/bin/time`; stage seconds from report.json `timings_s`; k is the scaling "
          f"exponent between consecutive sizes, log(t2/t1) / log(n2/n1) (1 = linear; noisy for "
          f"stages under about 0.1 s).", "", *lines]
table = "\n".join(block)
print(table)

if doc:
    begin, end = "<!-- scale:begin -->", "<!-- scale:end -->"
    with open(doc) as f:
        text = f.read()
    if begin in text and end in text and text.index(begin) < text.index(end):
        a = text.index(begin) + len(begin)
        b = text.index(end)
        text = text[:a] + "\n" + table + "\n" + text[b:]
    else:
        section = ("## Scaling (benches/scale.sh)\n\n"
                   "Whole `build_cells` runs on `make_points` sets of growing size; the table "
                   "below is written by the script (a re-run replaces it).\n\n"
                   f"{begin}\n{table}\n{end}\n")
        text = text.rstrip("\n") + "\n\n" + section
    tmp = doc + ".scale-tmp"
    with open(tmp, "w") as f:
        f.write(text)
    os.replace(tmp, doc)
    print(f"\n(written to {doc})", file=sys.stderr)
PY
