#!/usr/bin/env bash
# Installs and starts everything the tests need, then runs ALL tests against a throw-away PostgreSQL cluster.
# Exits non-zero on any failure. Usage: scripts/test.sh [extra dotnet test arguments, e.g. --filter-class Dsdc.Tests.Shared.MigrateCommandTests]
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/lib/postgres.sh

command -v dotnet >/dev/null || { echo "test.sh: the .NET 10 SDK is required (dotnet not found on PATH)" >&2; exit 1; }
bash scripts/lib/install-deps.sh --test --browser

# A cluster that lives only for this run: nothing touches the machine's own databases.
pg_dir=$(mktemp -d /tmp/dsdc-test-pg.XXXXXX)
port=$(free_port 55432)
cleanup() { pg_cluster_stop "$pg_dir"; rm -rf "$pg_dir"; }
trap cleanup EXIT
pg_cluster_start "$pg_dir" "$port"
export DSDC_TEST_POSTGRES="Host=127.0.0.1;Port=$port;Username=postgres;Database=postgres;Pooling=false"
export DSDC_TEST_DATASETS="${DSDC_TEST_DATASETS:-$(cd .. && pwd)/shared/datasets}"
echo "test.sh: PostgreSQL on 127.0.0.1:$port ($pg_dir)"

results=$(mktemp -d /tmp/dsdc-test-results.XXXXXX)
status=0
dotnet build Dsdc.sln -c Release -nologo -v quiet
dotnet test --solution Dsdc.sln -c Release --no-build --results-directory "$results" --report-xunit-trx "$@" || status=$?

# One closing line that any CI can read, counted from the test results themselves, after the failed tests named again.
passed=0; failed=0; skipped=0
for trx in "$results"/*.trx; do
  [ -f "$trx" ] || continue
  counters=$(grep -o '<Counters [^>]*>' "$trx" | head -n 1 || true)  # an aborted run's file may hold none
  get() { echo "$counters" | grep -o " $1=\"[0-9]*\"" | grep -o '[0-9]*' || echo 0; }
  passed=$((passed + $(get passed))); failed=$((failed + $(get failed) + $(get error) + $(get timeout) + $(get aborted))); skipped=$((skipped + $(get notExecuted)))
  # The failed tests again, last, so that a log read from its tail names them (perl-base is part of every Debian).
  perl -0777 -ne '
    sub plain { my $t = shift; $t =~ s/&lt;/</g; $t =~ s/&gt;/>/g; $t =~ s/&quot;/"/g; $t =~ s/&apos;/\x27/g; $t =~ s/&#xD;//g; $t =~ s/&#xA;/\n/g; $t =~ s/&amp;/&/g; $t }
    while (/<UnitTestResult\b([^>]*?)(\/>|>(.*?)<\/UnitTestResult>)/gs) {
      my ($attrs, $body) = ($1, $3 // "");
      next unless $attrs =~ /outcome="(Failed|Error|Timeout|Aborted)"/;
      my ($name) = $attrs =~ /testName="([^"]*)"/;
      my ($error) = $body =~ /<ErrorInfo>(.*?)<\/ErrorInfo>/s;
      my ($message) = ($error // "") =~ /<Message>(.*?)<\/Message>/s;
      my ($stack) = ($error // "") =~ /<StackTrace>(.*?)<\/StackTrace>/s;
      my ($texts) = $body =~ /<TextMessages>(.*?)<\/TextMessages>/s;
      my @lines = (split(/\n/, plain($message // "")), grep { /Dsdc\./ } split(/\n/, plain($stack // "")));
      splice(@lines, 30) if @lines > 30;
      my @said = grep { /\S/ } map { split(/\n/, plain($_)) } (($texts // "") =~ /<Message>(.*?)<\/Message>/gs);
      splice(@said, 0, @said - 12) if @said > 12;
      print "FAILED ", plain($name // "?"), "\n", map({ "  $_\n" } @lines), @said ? ("  its output ended:\n", map({ "  | $_\n" } @said)) : ();
    }' "$trx" || echo "test.sh: could not list the failed tests of $trx (perl missing?)"
done
echo "$passed passed, $failed failed, $skipped skipped"
rm -rf "$results"
[ "$status" -eq 0 ] && [ "$failed" -eq 0 ] && [ "$passed" -gt 0 ] || exit $(( status == 0 ? 1 : status ))
