#!/usr/bin/env bash
# The README's run command: sets up what libtorch needs (scripts/prerequisites.sh; a no-op where done), then runs a
# CPU-sized NAS-Bench-201 search with the nasflatness tool in which α visibly moves: DARTS (first order) with the
# architecture learning rate raised to 3e-2 (at the paper's 3e-4, α barely moves in a CPU-sized budget), C = 8, N = 1,
# 640 + 640 CIFAR-10 images, 6 epochs, 2 validation batches per epoch end, one libtorch thread (many small kernels:
# one thread avoids OpenMP contention on small or shared machines). About 2 minutes on 2 cores (README).
# Extra arguments go to `nasflatness search`; an option given there replaces the default below
# (e.g. ./scripts/run.sh --epochs 20 --train-examples 2560 --valid-examples 2560 --threads 2, or --method beta-darts).
set -euo pipefail
cd "$(dirname "$0")/.."

./scripts/prerequisites.sh

defaults=(--method darts --arch-lr 3e-2 --epochs 6 --channels 8 --cells 1 --train-examples 640 --valid-examples 640 --validation-batches 2 --threads 1)
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
