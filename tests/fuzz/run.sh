#!/bin/bash
# Builds the libFuzzer targets (clang, ASan + UBSan, into build-fuzz/) and runs each for
# FUZZ_SECONDS (default 60) from its committed seed corpus (tests/fuzz/corpus/TARGET; new
# inputs go to a scratch copy, so the tree does not change). Prints one line per target:
# executions, coverage (libFuzzer's edge count "cov" and feature count "ft"), corpus size and
# findings. Exits 1 when a target finds a crash, a leak, a timeout or an out-of-memory input;
# the input is kept in build-fuzz/findings/TARGET/.
#   FUZZ_SECONDS=600 tests/fuzz/run.sh            (make fuzz)
#   tests/fuzz/run.sh fuzz_png_config             (one target)
set -uo pipefail
cd "$(dirname "$0")/../.."
SECONDS_EACH=${FUZZ_SECONDS:-60}
BUILD=${FUZZ_BUILD:-build-fuzz}
TARGETS=("$@")
[ ${#TARGETS[@]} -eq 0 ] && TARGETS=(fuzz_ini fuzz_png_config fuzz_idx_gzip fuzz_idx_payload fuzz_run_folder fuzz_sweep_plan)

if [ ! -f "$BUILD/build.ninja" ]; then
  CC=clang meson setup "$BUILD" -Dfuzz=true -Dgui=disabled -Dbuildtype=debugoptimized -Dwerror=false \
    -Db_sanitize=address,undefined -Db_lundef=false -Dc_args=-fsanitize=fuzzer-no-link >/dev/null || exit 1
fi
ninja -C "$BUILD" $(printf 'tests/fuzz/%s ' "${TARGETS[@]}") >/dev/null || { ninja -C "$BUILD" $(printf 'tests/fuzz/%s ' "${TARGETS[@]}") | tail -20; exit 1; }

status=0
printf '%-18s %12s %8s %8s %8s  %s\n' target executions cov ft corpus findings
for t in "${TARGETS[@]}"; do
  work="$BUILD/fuzz-work/$t"; found="$BUILD/findings/$t"
  rm -rf "$work" "$found"; mkdir -p "$work" "$found"
  log="$BUILD/fuzz-work/$t.log"
  ASAN_OPTIONS=detect_leaks=1:allocator_may_return_null=1 UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1 \
    "$BUILD/tests/fuzz/$t" -max_total_time="$SECONDS_EACH" -print_final_stats=1 -rss_limit_mb=2048 -timeout=20 \
      -max_len=65536 -artifact_prefix="$found/" "$work" "tests/fuzz/corpus/$t" >"$log" 2>&1
  rc=$?
  execs=$(grep -o 'stat::number_of_executed_units: *[0-9]*' "$log" | grep -o '[0-9]*$' | tail -1)
  cov=$(grep -o 'cov: [0-9]*' "$log" | tail -1 | grep -o '[0-9]*')
  ft=$(grep -o 'ft: [0-9]*' "$log" | tail -1 | grep -o '[0-9]*')
  corpus=$(ls "$work" | wc -l)
  findings=$(ls "$found" | wc -l)
  printf '%-18s %12s %8s %8s %8s  %s\n' "$t" "${execs:-?}" "${cov:-?}" "${ft:-?}" "$corpus" "$findings"
  if [ $rc -ne 0 ] || [ "$findings" -gt 0 ]; then
    status=1
    grep -m5 -E 'ERROR|SUMMARY|runtime error' "$log"
  fi
done
exit $status
