#!/usr/bin/env bash
# The README's test command: sets up what the tests need (scripts/prerequisites.sh; a no-op where done), builds the
# solution (NasFlatness.sln) and runs every test project; prints "N passed, N failed" from the test results.
# Exits non-zero when a test fails or when no test ran. Extra arguments go to `dotnet test` (e.g. --filter ...).
set -euo pipefail
cd "$(dirname "$0")/.."

./scripts/prerequisites.sh

results=TestResults
rm -rf "$results"
status=0
# Build once (in parallel), then run the test projects one after another: each uses every core through
# libtorch's thread pool, and running them side by side only oversubscribes the CPU.
dotnet build NasFlatness.sln -c Release
dotnet test NasFlatness.sln -c Release --no-build -m:1 --logger "trx" --results-directory "$results" "$@" || status=$?

passed=0
failed=0
shopt -s nullglob
for trx in "$results"/*.trx; do
  counters=$(grep -o '<Counters [^>]*>' "$trx" | head -n 1)
  p=$(sed -n 's/.* passed="\([0-9]*\)".*/\1/p' <<<"$counters")
  f=$(sed -n 's/.* failed="\([0-9]*\)".*/\1/p' <<<"$counters")
  passed=$((passed + ${p:-0}))
  failed=$((failed + ${f:-0}))
done
echo "$passed passed, $failed failed"
if [ "$status" -ne 0 ] || [ "$failed" -ne 0 ] || [ "$passed" -eq 0 ]; then
  exit 1
fi
