#!/usr/bin/env bash
# The README's run command: sets up what libtorch needs (scripts/prerequisites.sh; a no-op where done), then runs a
# CPU-sized NAS-Bench-201 search with the nasflatness tool in which α visibly decides: DARTS (first order) under the
# tool's default protocol `quick-nb201` (C = 8, N = 1, 1,280 + 1,280 CIFAR-10 images, batch 64, 16 epochs; the α learning
# rate derived so that α-lr × α steps equals the paper's: 3e-4 × 19,550 / 320 ≈ 1.83e-2; docs/protocol.md), one libtorch
# thread (many small kernels: one thread avoids OpenMP contention on small or shared machines). About 2 minutes on 2 cores.
# Extra arguments go to `nasflatness search`; an option given there replaces the default below
# (e.g. ./scripts/run.sh --protocol cpu-nb201 --threads 2, or --method beta-darts).
set -euo pipefail
cd "$(dirname "$0")/.."

# The search needs libtorch only; the browser for the report-page tests is left to scripts/test.sh.
NASFLATNESS_SKIP_CHROMIUM=1 ./scripts/prerequisites.sh

defaults=(--method darts --threads 1)
args=()
for ((i = 0; i < ${#defaults[@]}; i += 2)); do
  flag=${defaults[i]}
  given=no
  for a in "$@"; do
    if [ "$a" = "$flag" ] || [[ "$a" == "$flag="* ]]; then given=yes; fi
    # --optimizer replaces the --method preset.
    if [ "$flag" = "--method" ] && [ "$a" = "--optimizer" ]; then given=yes; fi
  done
  if [ "$given" = no ]; then args+=("$flag" "${defaults[i + 1]}"); fi
done

exec dotnet run -c Release --project tools/NasFlatness.Cli -- search "${args[@]}" "$@"
