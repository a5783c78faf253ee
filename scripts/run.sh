#!/usr/bin/env bash
# The README's run command: sets up what libtorch needs (scripts/prerequisites.sh; a no-op where done), then runs a
# CPU-sized NAS-Bench-201 search with the nasflatness tool in which α visibly decides: DARTS (first order) with the
# architecture learning rate raised to 3e-2 (the paper's 3e-4 needs 50 full epochs before α moves), C = 8, N = 1,
# 1,280 + 1,280 CIFAR-10 images, 8 epochs. Extra arguments go to `nasflatness search`; an option given there replaces
# the default below (e.g. ./scripts/run.sh --epochs 20 --seed 1, or --method beta-darts).
set -euo pipefail
cd "$(dirname "$0")/.."

./scripts/prerequisites.sh

defaults=(--method darts --arch-lr 3e-2 --epochs 8 --channels 8 --cells 1 --train-examples 1280 --valid-examples 1280)
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
