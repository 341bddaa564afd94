#!/usr/bin/env bash
# attack.sh runs TADD's attack benchmarks and the same iterations in PyTorch
# (Debian's python3-torch, /usr/bin/python3) one after the other in one run,
# and prints the ratios for BENCHMARKS.md (issue 19):
#
#   native/bench/attack.sh
#
# Environment: BENCHTIME (go test -benchtime, default 2s), THREADS (PyTorch
# threads, default 2), TORCH_SECONDS (least time per PyTorch measurement,
# default 3), BENCH (the per-iteration benchmark's -bench pattern, default
# BenchmarkAttackIteration$), WHOLE (the whole-attack benchmark's, run once;
# empty to skip it). `attack.sh ratios TORCH GO` prints only the ratios of
# two saved outputs. Run it on a quiet machine: the figures are only as good as
# the machine is idle.
set -euo pipefail
cd "$(dirname "$0")/../.."

# ratios prints the table of ratios from PyTorch's output (file $1) and
# TADD's (file $2). The lines it reads:
#
#   BenchmarkAttackIteration/l2/batch16-2  10  11.8 GFLOP/s  53.8 ms/iter
#   BenchmarkAttackThroughput/l2-2  1  12800 image-iters/op  2400 image-iters/s
#   attack l2 batch16: 60.0 ms/iter 267 image-iters/s
#
# The whole-attack ratio sets TADD's image-iterations per second over a
# whole attack (the queue refilling a batch of 128) against PyTorch's at one
# iteration of batch 128 (no schedule, no tail): PyTorch's best case.
ratios() {
	awk '
function value(unit,   i) { for (i = 2; i <= NF; i++) if ($i == unit) return $(i-1); return "" }
FNR == NR {
	if ($1 == "attack") { b = $3; sub(":", "", b); torch[$2 "/" b] = $4 }
	next
}
/^BenchmarkAttackIteration\// {
	split($1, p, "/"); sub(/-[0-9]+$/, "", p[3])
	key = p[2] "/" p[3]; ms[key] = value("ms/iter"); gf[key] = value("GFLOP/s"); keys[++n] = key
}
/^BenchmarkAttackThroughput\// {
	split($1, p, "/"); sub(/-[0-9]+$/, "", p[2]); whole[p[2]] = value("image-iters/s")
}
END {
	printf "\n%-16s %12s %10s %14s %10s\n", "attack/batch", "TADD ms", "GFLOP/s", "PyTorch ms", "PyTorch/TADD"
	for (i = 1; i <= n; i++) {
		k = keys[i]
		r = (k in torch && ms[k] > 0) ? sprintf("%.2f×", torch[k] / ms[k]) : "—"
		printf "%-16s %12s %10s %14s %10s\n", k, ms[k], gf[k], (k in torch ? torch[k] : "—"), r
	}
	if (length(whole) == 0) exit
	printf "\n%-8s %22s %28s %10s\n", "attack", "TADD whole attack", "PyTorch one iteration, b128", "ratio"
	split("l2 l0 linf", order, " ")
	for (j = 1; j <= 3; j++) {
		a = order[j]
		if (!(a in whole)) continue
		k = a "/batch128"
		if (k in torch && torch[k] > 0) {
			t = 128 * 1000 / torch[k]
			printf "%-8s %16.0f it/s %22.0f it/s %9.2f×\n", a, whole[a], t, whole[a] / t
		}
	}
}' "$1" "$2"
}

if [ "${1:-}" = ratios ]; then
	ratios "$2" "$3"
	exit
fi

benchtime=${BENCHTIME:-2s}
threads=${THREADS:-2}
torch_seconds=${TORCH_SECONDS:-3}
pattern=${BENCH:-'BenchmarkAttackIteration$'}
whole=${WHOLE-'BenchmarkAttackThroughput$'}
simd=()
if [ "$(go env GOARCH)" = amd64 ]; then simd=(GOEXPERIMENT=simd); fi

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
echo "# $(date -u) · $(uptime)"
echo "# go test -bench '$pattern' -benchtime $benchtime, '$whole' -benchtime 1x ./core/attack (${simd[*]:-portable kernels})"
env "${simd[@]}" go test -run '^$' -bench "$pattern" -benchtime "$benchtime" ./core/attack | tee "$tmp/go"
if [ -n "$whole" ]; then
	env "${simd[@]}" go test -run '^$' -bench "$whole" -benchtime 1x ./core/attack | tee -a "$tmp/go"
fi
echo "# /usr/bin/python3 native/bench/torch_mnist.py $threads attack $torch_seconds"
/usr/bin/python3 native/bench/torch_mnist.py "$threads" attack "$torch_seconds" | tee "$tmp/torch"
echo "# $(uptime)"
ratios "$tmp/torch" "$tmp/go"
