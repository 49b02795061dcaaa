#!/usr/bin/env bash
# Embedding at scale (docs/benchmarks.md, "Embedding at scale"): generates 100,000 FASTA records from ../shared/data in
# /tmp, embeds them with `rnalm embed --include mean` while sampling the resident size, runs the same job sharded 4 ways
# through workflow/Snakefile and compares the vectors with numpy, and compares embed's rate with the forward-only rate.
# Usage: samples/Benchmarks/embed-scale.sh [records] [threads] [rate-records]   (needs Debian's snakemake and python3-numpy)
# RNALM_BENCH_MODEL chooses the checkpoint of the 100,000-record runs (default: the built-in rnalm-mini); the rate
# comparison always uses rnalm-mini on the first rate-records records (default 2,000).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/../.."
RECORDS=${1:-100000}
THREADS=${2:-1}
RATE_RECORDS=${3:-2000}
SHARED=${RNALM_SHARED:-../shared}
WORK=${RNALM_BENCH_DIR:-/tmp/rnalm-embed-scale}
mkdir -p "$WORK"
rm -rf "$WORK"/out* "$WORK"/.snakemake

dotnet build -c Release samples/Rnalm.Cli -v q -nologo >/dev/null
dotnet build -c Release samples/Benchmarks -v q -nologo >/dev/null
RNALM=$PWD/samples/Rnalm.Cli/bin/Release/net10.0/rnalm
BENCH=$PWD/samples/Benchmarks/bin/Release/net10.0/rnalm-benchmarks
MINI=$PWD/models/rnalm-mini
MODEL=${RNALM_BENCH_MODEL:-$MINI}

# The records: every sequence of the nRC, bpRNA and ArchiveII files, repeated under new names until there are enough.
FASTA=$WORK/records.fasta
python3 - "$SHARED/data" "$RECORDS" "$FASTA" <<'PY'
import sys, pathlib
data, count, out = pathlib.Path(sys.argv[1]), int(sys.argv[2]), sys.argv[3]
seqs = []
for f in ["ncrna/nrc_train.fasta", "ncrna/nrc_test.fasta"]:
    cur = []
    for line in (data / f).read_text().splitlines():
        if line.startswith(">"):
            if cur: seqs.append("".join(cur))
            cur = []
        elif line.strip():
            cur.append(line.strip())
    if cur: seqs.append("".join(cur))
for f in ["pretraining/bprna_tr0.dbn", "structure/bprna_vl0.dbn", "structure/archiveii.dbn"]:
    lines = [l for l in (data / f).read_text().splitlines() if l.strip()]
    seqs += [lines[i + 1] for i in range(0, len(lines) - 2, 3) if lines[i].startswith(">")]
with open(out, "w") as w:
    for i in range(count):
        w.write(f">rec{i}\n{seqs[i % len(seqs)]}\n")
PY
echo "records: $(grep -c '>' "$FASTA") in $FASTA ($(du -h "$FASTA" | cut -f1)), $(awk '!/^>/{n+=length($0)} END{print n}' "$FASTA") nt"

# Runs a command, sampling its resident size every second; prints the peak and the samples' quartiles.
measure() {
    local log=$1; shift
    "$@" 2> "$log.err" &
    local pid=$! peak=0 samples=()
    while kill -0 "$pid" 2>/dev/null; do
        local rss
        rss=$(awk '/VmRSS/{print $2}' "/proc/$pid/status" 2>/dev/null || echo 0)
        [[ -n "$rss" && "$rss" -gt 0 ]] && samples+=("$rss") && (( rss > peak )) && peak=$rss
        sleep 1
    done
    wait "$pid"
    printf '%s\n' "${samples[@]}" | sort -n | awk -v peak="$peak" '{a[NR]=$1} END{printf "RSS peak %.0f MiB; samples: first quartile %.0f, median %.0f, third quartile %.0f MiB (%d samples)\n", peak/1024, a[int(NR/4)+1]/1024, a[int(NR/2)+1]/1024, a[int(3*NR/4)+1]/1024, NR}'
    tail -1 "$log.err"
}

echo "== unsharded: rnalm embed --include mean --format npz --long chunk --threads $THREADS"
START=$(date +%s)
measure "$WORK/out-whole" "$RNALM" embed --checkpoint "$MODEL" --input "$FASTA" --output "$WORK/out-whole.npz" --format npz --include mean --long chunk --threads "$THREADS"
echo "wall $(( $(date +%s) - START )) s"

echo "== sharded 4 ways through workflow/Snakefile (2 jobs at a time)"
START=$(date +%s)
snakemake -s workflow/Snakefile --directory "$WORK" --cores 2 --quiet --config input="$FASTA" output="$WORK/out-sharded.npz" format=npz shards=4 \
    rnalm="$RNALM" threads=1 embed_args="--checkpoint $MODEL --include mean --long chunk" > "$WORK/snakemake.log" 2>&1
echo "wall $(( $(date +%s) - START )) s"
for f in "$WORK"/out-sharded.npz.shards/*.log; do tail -1 "$f"; done

/usr/bin/python3 - "$WORK/out-whole.npz" "$WORK/out-sharded.npz" <<'PY'
import sys, json, numpy as np
a, b = np.load(sys.argv[1]), np.load(sys.argv[2])
assert (a["names"] == b["names"]).all(), "record names differ"
d = np.abs(a["mean"] - b["mean"]).max()
print(f"numpy: {a['mean'].shape[0]} x {a['mean'].shape[1]} vectors; names equal; max |unsharded - sharded| = {d:.3g}; "
      f"identical: {np.array_equal(a['mean'], b['mean'])}; policy {json.loads(str(a['metadata']))['long_policy']}")
PY

echo "== embed rate against the forward-only rate: rnalm-mini, first $RATE_RECORDS records, --long truncate"
head -n $((2 * RATE_RECORDS)) "$FASTA" > "$WORK/rate.fasta"
"$BENCH" forward-rate "$WORK/rate.fasta" "$MINI" "$RATE_RECORDS" 8192 "$THREADS"
"$RNALM" embed --checkpoint "$MINI" --input "$WORK/rate.fasta" --output "$WORK/out-rate.npz" --format npz --include mean --long truncate --threads "$THREADS" 2>&1 | tail -1
