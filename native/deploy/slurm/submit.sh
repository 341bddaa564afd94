#!/usr/bin/env bash
# Submits the paper's reproduction to Slurm as a job array of N shards and a
# merge job that runs when every shard has succeeded:
#
#   deploy/slurm/submit.sh N OUT [tadd reproduce flags...]
#   deploy/slurm/submit.sh 200 /shared/tadd --dataset mnist --samples 10000
#
# OUT must be a folder every node sees; the report lands in OUT/report. The
# tadd binary is $TADD (default: bin/tadd next to this repository, built by
# ./build.sh). Extra sbatch options (partition, account, time limit) go in
# $SBATCH_OPTS, e.g. SBATCH_OPTS="--partition=cpu --time=2-00:00:00".
# Prints the array's and the merge job's ids.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
if [ $# -lt 2 ]; then
	echo "usage: $0 N OUT [tadd reproduce flags...]" >&2
	exit 2
fi
n=$1 out=$2
shift 2
case $n in '' | *[!0-9]* | 0) echo "$0: N must be a positive integer, not '$n'" >&2; exit 2 ;; esac
for a in "$@"; do
	case $a in *[[:space:]]*) echo "$0: flag '$a' contains white space" >&2; exit 2 ;; esac
done
tadd=${TADD:-$here/../../../bin/tadd}
tadd=$(cd "$(dirname "$tadd")" && pwd)/$(basename "$tadd")
[ -x "$tadd" ] || { echo "$0: no tadd binary at $tadd (run ./build.sh, or set TADD)" >&2; exit 1; }
mkdir -p "$out"
out=$(cd "$out" && pwd)
export TADD=$tadd TADD_OUT=$out TADD_SHARDS=$n TADD_ARGS="$*"
# shellcheck disable=SC2086
array=$(sbatch --parsable ${SBATCH_OPTS:-} --array=0-$((n - 1)) --output="$out/slurm-%A_%a.out" "$here/tadd-reproduce.sbatch")
array=${array%%;*}
# shellcheck disable=SC2086
merge=$(sbatch --parsable ${SBATCH_OPTS:-} --dependency=afterok:"$array" --output="$out/slurm-merge-%j.out" "$here/tadd-merge.sbatch")
merge=${merge%%;*}
echo "$array $merge"
