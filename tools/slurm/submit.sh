#!/bin/bash
# Runs a ContrastLab sweep on a Slurm cluster: writes the plan, submits one array task per cell
# and a collect job that runs after the array.
#
#   tools/slurm/submit.sh DIR [--preset P] [--set KEY=VALUE]... [--steps N] [--sweep KEY=V1,V2,...]...
#
# DIR must be on a filesystem shared by the submit host and every node. Prints the two job ids
# ("ARRAY COLLECT"). sbatch options come from the usual SBATCH_* variables (SBATCH_PARTITION,
# SBATCH_ACCOUNT, SBATCH_TIMELIMIT, ...); cores per cell from CONTRASTLAB_CPUS_PER_CELL (default 2);
# the binary from CONTRASTLAB_BIN (default: contrastlab on PATH).
set -euo pipefail
if [ $# -lt 1 ] || [ "${1#-}" != "$1" ]; then
  echo "usage: $0 DIR [--preset P] [--set KEY=VALUE]... [--sweep KEY=V1,V2,...]..." >&2
  exit 2
fi
dir=$(realpath -m "$1")
shift
here=$(cd "$(dirname "$0")" && pwd)
bin=${CONTRASTLAB_BIN:-contrastlab}
n=$("$bin" --headless "$@" --out "$dir" --plan)
cpus=${CONTRASTLAB_CPUS_PER_CELL:-2}
export CONTRASTLAB_SWEEP_DIR="$dir" CONTRASTLAB_BIN="$bin"
mkdir -p "$dir/slurm"
array=$(sbatch --parsable --array="0-$((n - 1))" --cpus-per-task="$cpus" \
  --output="$dir/slurm/cell-%a.out" "$here/cell.sbatch")
array=${array%%;*}
collect=$(sbatch --parsable --dependency="afterany:$array" --output="$dir/slurm/collect.out" \
  "$here/collect.sbatch")
collect=${collect%%;*}
echo "$array $collect"
echo "contrastlab: $n cells in array job $array, collect job $collect; results in $dir/sweep.csv" >&2
