#!/usr/bin/env bash
# The test command (README). Installs what it needs, builds, runs every test, and ends with "N passed, N failed".
# Works on a fresh machine that has the .NET 10 SDK and Node 20+; Azurite comes from package-lock.json.
set -uo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)
results="$root/artifacts/test-results"
rm -rf "$results" && mkdir -p "$results"
export DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1 DOTNET_SKIP_FIRST_TIME_EXPERIENCE=1

step() { printf '\n== %s\n' "$*"; }

step "npm ci (Azurite)"
if [ ! -x node_modules/.bin/azurite ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  npm ci --no-audit --no-fund --loglevel=error || { echo "npm ci failed"; echo "0 passed, 1 failed"; exit 1; }
fi

step "Chromium for the report's browser test (Debian package; Playwright never downloads a browser)"
if [ ! -x /usr/bin/chromium ]; then
  if command -v apt-get >/dev/null 2>&1; then
    sudo_cmd=""; [ "$(id -u)" -ne 0 ] && sudo_cmd="sudo"
    $sudo_cmd apt-get update -qq && DEBIAN_FRONTEND=noninteractive $sudo_cmd apt-get install -y -qq chromium >/dev/null \
      || echo "chromium could not be installed: the browser test will fail"
  else
    echo "no apt-get: install Chromium at /usr/bin/chromium, or the browser test will fail"
  fi
fi

extra_passed=0
extra_failed=0

step "Bicep: the real compiler (NuGet Azure.Bicep.CommandLine) lints infra/ (warnings fail) and builds artifacts/arm/main.json"
if dotnet build eng/Bicep/Bicep.csproj -c Release --nologo -v minimal; then extra_passed=$((extra_passed + 1)); else extra_failed=$((extra_failed + 1)); fi

step "Tryton 6.0 for the Tryton scenario tests (Debian packages + cached merchant database; beside the build)"
tryton_log="$root/artifacts/tryton-prepare.log"
mkdir -p "$root/artifacts"
bash eng/tryton/start.sh --prepare >"$tryton_log" 2>&1 &
tryton_pid=$!

step "dotnet build"
if ! dotnet build LoopFulfil.sln -c Release --nologo -v minimal; then
  echo "build failed"
  echo "$extra_passed passed, $((extra_failed + 1)) failed"
  exit 1
fi

if wait "$tryton_pid"; then
  echo "Tryton ready (see $tryton_log)"
else
  # No skipping: the Tryton tests start the script again and fail with its output.
  echo "Tryton could not be prepared: the Tryton scenario tests will fail. Last lines of $tryton_log:"; tail -20 "$tryton_log"
fi

step "dotnet test"
dotnet test LoopFulfil.sln -c Release --no-build --nologo -v minimal --filter "Category!=Chaos" \
  --logger "trx;LogFilePrefix=results" --results-directory "$results" \
  --blame-hang --blame-hang-timeout 5m
test_exit=$?

step "chaos run: 100 returns, 2 host kills, Fulfil faults before and after commit (docs/benchmarks/chaos.md)"
# On its own, after the suite: it starts its own Azurite, sandboxes and host processes and keeps the 2 cores busy for
# about 3-4 minutes, so it neither slows the other tests nor counts against their 5-minute hang limit.
dotnet test LoopFulfil.Tests/LoopFulfil.Tests.csproj -c Release --no-build --nologo -v minimal --filter "Category=Chaos" \
  --logger "trx;LogFilePrefix=chaos" --results-directory "$results" \
  --blame-hang --blame-hang-timeout 15m
chaos_exit=$?
[ "$chaos_exit" -ne 0 ] && test_exit=$chaos_exit

passed=0; failed=0; total=0; skipped=0
for trx in "$results"/*.trx; do
  [ -f "$trx" ] || continue
  counters=$(grep -o '<Counters [^>]*>' "$trx" | head -n 1)
  p=$(sed -n 's/.* passed="\([0-9]*\)".*/\1/p' <<<"$counters"); f=$(sed -n 's/.* failed="\([0-9]*\)".*/\1/p' <<<"$counters")
  t=$(sed -n 's/.* total="\([0-9]*\)".*/\1/p' <<<"$counters")
  n=$(sed -n 's/.* notExecuted="\([0-9]*\)".*/\1/p' <<<"$counters")
  passed=$((passed + ${p:-0})); failed=$((failed + ${f:-0})); total=$((total + ${t:-0})); skipped=$((skipped + ${n:-0}))
done
# A test run that crashed or hung leaves fewer results than tests: count the difference as failures.
if [ "$test_exit" -ne 0 ] && [ "$failed" -eq 0 ]; then failed=1; fi

passed=$((passed + extra_passed)); failed=$((failed + extra_failed))
echo
if [ "$skipped" -gt 0 ]; then echo "$passed passed, $failed failed, $skipped skipped"; else echo "$passed passed, $failed failed"; fi
[ "$failed" -eq 0 ] && [ "$test_exit" -eq 0 ]
