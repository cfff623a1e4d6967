#!/usr/bin/env bash
# The #19 figures of a git ref against the working tree, in the same session, side by side.
#
#   bench/compare.sh REF [--quick] [--runs N] [--connections N]
#   npm run bench:compare -- REF ...
#
# REF is checked out in a temporary worktree (node_modules linked from this tree) and gets this
# tree's bench/ copied in, so both sides are measured by the same bench and the ref also reports
# the cluster's CPU per delivered line; if that copy does not build against REF's lib/, REF's own
# bench is used and the figures it lacks print as "-". Each scenario runs REF then the tree, the
# next one the tree then REF, so load that drifts during the session falls on both.
# Scenarios: connections (`--only connections`), fan-out (`--only fan-out`: 100 and 1000 users),
# cluster fan-out (`--cluster --only fan-out`). Full mode, 2 runs (the default), 2000 connections:
# one run of the three scenarios took 150 s a side on the shared 2-core machine under load (fan-out
# 48 s, connections 76 s, cluster 25 s), so about 10 minutes in all, less on a quiet machine;
# `--runs 3` takes half as long again. Every bench run stops itself (its own deadline); this script
# also gives each one at most 10 minutes.
set -euo pipefail

usage() { echo "usage: bench/compare.sh REF [--quick] [--runs N] [--connections N]" >&2; exit 2; }
[[ $# -ge 1 && $1 != -* ]] || usage
ref=$1; shift
quick=(); runs=2; connections=2000
while [[ $# -gt 0 ]]; do
  case $1 in
    --quick) quick=(--quick); shift ;;
    --runs) [[ $# -ge 2 ]] || usage; runs=$2; shift 2 ;;
    --connections) [[ $# -ge 2 ]] || usage; connections=$2; shift 2 ;;
    *) usage ;;
  esac
done

tree=$(git rev-parse --show-toplevel)
cd "$tree"
sha=$(git rev-parse --short "$ref^{commit}")
work=$(mktemp -d "${TMPDIR:-/tmp}/chatd-compare-XXXXXX")
refdir=$work/ref
cleanup() {
  git -C "$tree" worktree remove --force "$refdir" 2>/dev/null || true
  rm -rf "$work"
  git -C "$tree" worktree prune
}
trap cleanup EXIT

ulimit -n 20000 2>/dev/null || ulimit -n "$(ulimit -Hn)"

echo "building $ref ($sha) in $refdir and the working tree ($(git rev-parse --short HEAD)$(git diff --quiet HEAD || echo ', with changes'))" >&2
git worktree add --detach --quiet "$refdir" "$sha"
ln -s "$tree/node_modules" "$refdir/node_modules"
git diff --quiet "$sha" HEAD -- package-lock.json || echo "note: package-lock.json differs; $ref runs on this tree's node_modules" >&2
npx tsc -p bench/tsconfig.json
mv "$refdir/bench" "$work/ref-bench"
cp -r bench "$refdir/bench"
# The other doors' benches are entry points of their own that need lib/ of their time.
rm -f "$refdir/bench/ssh.ts" "$refdir/bench/web.ts"
if (cd "$refdir" && npx tsc -p bench/tsconfig.json); then
  refbench="this tree's bench"
else
  echo "note: this tree's bench does not build against $ref; $ref runs its own bench" >&2
  rm -rf "$refdir/bench" "$refdir/dist/bench"
  mv "$work/ref-bench" "$refdir/bench"
  (cd "$refdir" && npx tsc -p bench/tsconfig.json)
  refbench="$ref's own bench"
fi

# Runs one scenario on one side; its JSON line (the last line of stdout) goes to $work/NAME.json.
bench() {
  local side=$1 name=$2; shift 2
  local dir=$tree; [[ $side == ref ]] && dir=$refdir
  echo "== $side: $name ($*)" >&2
  # A failed run (a loss fails it) leaves its figures "-" in the table; the other runs still go.
  (cd "$dir" && timeout --kill-after=10 600 node dist/bench/bench/main.js "$@") | tee "$work/$side-$name.out" >&2 ||
    echo "note: $side $name failed (exit ${PIPESTATUS[0]}); its figures print as -" >&2
  tail -n 1 "$work/$side-$name.out" > "$work/$side-$name.json"
}
started=$SECONDS
bench ref connections "${quick[@]}" --only connections --runs "$runs" --connections "$connections"
bench tree connections "${quick[@]}" --only connections --runs "$runs" --connections "$connections"
bench tree fan-out "${quick[@]}" --only fan-out --runs "$runs"
bench ref fan-out "${quick[@]}" --only fan-out --runs "$runs"
bench ref cluster "${quick[@]}" --cluster --only fan-out --runs "$runs"
bench tree cluster "${quick[@]}" --cluster --only fan-out --runs "$runs"

echo
echo "$ref ($sha, measured by $refbench) against the working tree; ${quick[*]:-full} mode, $runs run(s) each, $connections connections; $((SECONDS - started)) s; load average now $(cut -d' ' -f1-3 /proc/loadavg)"
node "$tree/dist/bench/bench/compare-table.js" "$work" "$sha"
