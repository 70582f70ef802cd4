#!/usr/bin/env bash
# Mutation testing of the protocol engine's defences (see README.md beside this script).
#
#   Tests/Mutation/run.sh [id ...]
#
# For each mutant of mutants.tsv (or only the given ids): apply its one textual replacement to a scratch copy of
# the working tree's tracked files, build the tests, run the suites its filter selects, and classify it:
#   KILLED       a selected test failed (or the run timed out)
#   SURVIVED     every selected test passed: a defence without a test
#   EQUIVALENT   survived, and the tsv explains why no input can tell (description starts with EQUIVALENT:)
#   BUILD-ERROR  the mutant does not compile: an invalid mutant, reported, never counted as killed
# Exits non-zero when a mutant survived or is invalid, or when a pattern does not occur exactly once.
#
# Environment: SECAGG_MUTATION_DIR (scratch copy, reused between runs; default /tmp/secagg-mutation),
# SECAGG_MUTATION_TIMEOUT (seconds per test run, default 900), SECAGG_MUTATION_LOG (per-mutant logs).
set -euo pipefail
# `&` in a replacement is literal (bash 5.2 would otherwise substitute the match for it).
shopt -u patsub_replacement 2>/dev/null || true

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(cd "$here/../.." && pwd)"
list="$here/mutants.tsv"
scratch="${SECAGG_MUTATION_DIR:-/tmp/secagg-mutation}"
timeout_seconds="${SECAGG_MUTATION_TIMEOUT:-900}"
logs="${SECAGG_MUTATION_LOG:-$scratch/logs}"
src="$scratch/src"
build="$scratch/build"

die() { echo "mutation: $*" >&2; exit 2; }

# `\n` and `\t` in a pattern or replacement stand for a newline and a tab (context across a line break).
unescape() {
    local s="$1"
    s="${s//\\n/$'\n'}"
    s="${s//\\t/$'\t'}"
    printf '%s' "$s"
}

# The file's exact content, trailing newlines included.
slurp() {
    local content
    content="$(cat -- "$1"; printf x)"
    printf '%s' "${content%x}"
}

# Number of occurrences of $2 in $1 (0, 1 or 2: two means "more than one").
occurrences() {
    local haystack="$1" needle="$2"
    [[ "$haystack" == *"$needle"* ]] || { echo 0; return; }
    local rest="${haystack#*"$needle"}"
    [[ "$rest" == *"$needle"* ]] && echo 2 || echo 1
}

# ---- Read the list ---------------------------------------------------------------------------------------------
ids=() files=() patterns=() replacements=() filters=() descriptions=()
declare -A seen=()
line_number=0
while IFS= read -r line || [[ -n "$line" ]]; do
    line_number=$((line_number + 1))
    [[ -z "$line" || "$line" == \#* ]] && continue
    # Split on every tab (read would merge empty fields: a replacement may be empty, a deletion).
    mapfile -t -d $'\t' fields < <(printf '%s' "$line")
    [[ ${#fields[@]} -eq 6 ]] || die "mutants.tsv:$line_number: expected 6 tab-separated fields, got ${#fields[@]}"
    id="${fields[0]}" file="${fields[1]}" pattern="${fields[2]}" replacement="${fields[3]}"
    filter="${fields[4]}" description="${fields[5]}"
    [[ -n "$id" && -n "$file" && -n "$pattern" && -n "$filter" && -n "$description" ]] \
        || die "mutants.tsv:$line_number: only the replacement may be empty"
    [[ -z "${seen[$id]:-}" ]] || die "mutants.tsv:$line_number: duplicate id $id"
    seen[$id]=1
    ids+=("$id") files+=("$file") patterns+=("$(unescape "$pattern")")
    replacements+=("$(unescape "$replacement")") filters+=("$filter") descriptions+=("$description")
done <"$list"

# ---- Which mutants -----------------------------------------------------------------------------------------------
selected=()
if [[ $# -eq 0 ]]; then
    selected=("${!ids[@]}")
else
    for want in "$@"; do
        found=""
        for i in "${!ids[@]}"; do [[ "${ids[$i]}" == "$want" ]] && found="$i"; done
        [[ -n "$found" ]] || die "no mutant with id $want"
        selected+=("$found")
    done
fi

# ---- Every pattern must occur exactly once (in the working tree), so the list cannot silently rot ---------------
stale=0
for i in "${selected[@]}"; do
    path="$root/${files[$i]}"
    if [[ ! -f "$path" ]]; then
        echo "STALE ${ids[$i]}: ${files[$i]} does not exist" >&2
        stale=1
        continue
    fi
    count="$(occurrences "$(slurp "$path")" "${patterns[$i]}")"
    if [[ "$count" != 1 ]]; then
        [[ "$count" == 0 ]] && what="does not occur" || what="occurs more than once"
        echo "STALE ${ids[$i]}: the pattern $what in ${files[$i]}" >&2
        stale=1
    fi
done
[[ $stale == 0 ]] || die "fix mutants.tsv: every pattern must occur exactly once in its file"

# ---- Scratch copy of the tracked files ---------------------------------------------------------------------------
mkdir -p "$src" "$logs"
cd "$root"
# Copy only what differs, so unchanged files keep their timestamps and the build stays incremental.
while IFS= read -r -d '' f; do
    [[ -f "$f" ]] || continue
    if ! cmp -s -- "$f" "$src/$f"; then
        mkdir -p "$src/$(dirname -- "$f")"
        cp -- "$f" "$src/$f"
    fi
done < <(git ls-files -z)
# Sources and tests that moved or were deleted since the last run must not linger in the copy.
while IFS= read -r -d '' f; do
    rel="${f#"$src"/}"
    [[ -f "$root/$rel" ]] || rm -f -- "$f"
done < <(find "$src/Sources" "$src/Tests" "$src/Package.swift" -type f -print0 2>/dev/null)

restore() { cp -- "$root/$1" "$src/$1"; }

build_tests() {
    (cd "$src" && swift build --build-tests --scratch-path "$build") >"$1" 2>&1
}

# Runs the filter's tests; prints nothing, returns the test command's status (124 on timeout).
run_tests() {
    local status=0
    (cd "$src" && timeout "$timeout_seconds" swift test --skip-build --scratch-path "$build" --filter "$1") \
        >"$2" 2>&1 || status=$?
    return "$status"
}

seconds() { date +%s; }
started="$(seconds)"

# ---- Baseline: the unmutated tree must build and pass every filter used ------------------------------------------
echo "baseline: building $src"
build_tests "$logs/baseline-build.log" || die "the unmutated tree does not build (see $logs/baseline-build.log)"
declare -A baseline_done=()
for i in "${selected[@]}"; do
    filter="${filters[$i]}"
    [[ -n "${baseline_done[$filter]:-}" ]] && continue
    baseline_done[$filter]=1
    run_tests "$filter" "$logs/baseline-tests.log" \
        || die "the unmutated tree fails the tests of filter '$filter' (see $logs/baseline-tests.log)"
done
echo "baseline: ${#baseline_done[@]} filters pass ($(($(seconds) - started)) s)"

# ---- Mutants -----------------------------------------------------------------------------------------------------
killed=0 survived=0 invalid=0 equivalent=0
survivors=() invalids=() equivalents=()
trap 'for f in "${files[@]}"; do [[ -f "$root/$f" ]] && cp -- "$root/$f" "$src/$f"; done' EXIT
for i in "${selected[@]}"; do
    id="${ids[$i]}" file="${files[$i]}"
    t0="$(seconds)"
    content="$(slurp "$src/$file")"
    printf '%s' "${content/"${patterns[$i]}"/"${replacements[$i]}"}" >"$src/$file"
    log="$logs/$id.log"
    if ! build_tests "$log"; then
        status="BUILD-ERROR"
        invalid=$((invalid + 1))
        invalids+=("$id")
    else
        test_status=0
        run_tests "${filters[$i]}" "$log.tests" || test_status=$?
        cat "$log.tests" >>"$log" && rm -f "$log.tests"
        if [[ $test_status != 0 && "${descriptions[$i]}" == EQUIVALENT:* ]]; then
            status="KILLED-BUT-MARKED-EQUIVALENT"
            killed=$((killed + 1))
            invalids+=("$id")
        elif [[ $test_status == 124 ]]; then
            status="KILLED (timeout)"
            killed=$((killed + 1))
        elif [[ $test_status != 0 ]]; then
            status="KILLED"
            killed=$((killed + 1))
        elif [[ "${descriptions[$i]}" == EQUIVALENT:* ]]; then
            status="EQUIVALENT"
            equivalent=$((equivalent + 1))
            equivalents+=("$id")
        else
            status="SURVIVED"
            survived=$((survived + 1))
            survivors+=("$id")
        fi
    fi
    restore "$file"
    # Which tests failed (swift-testing prints "✘ Test name(…) failed"; XCTest "error: … : name : …").
    culprits=""
    if [[ $status == KILLED* ]]; then
        culprits="$(grep -oE '✘ Test [A-Za-z0-9_]+\(' "$log" | sed 's/✘ Test //; s/($//' | sort -u | head -3 | paste -sd, - || true)"
        [[ -n "$culprits" ]] && culprits=" [by ${culprits//,/, }]"
    fi
    description="${descriptions[$i]}"
    [[ "$description" == EQUIVALENT:* ]] && description="${description:0:100}…"
    printf '%-34s %-12s %4ss  %s%s\n' "$id" "$status" "$(($(seconds) - t0))" "$description" "$culprits"
done
trap - EXIT

total=${#selected[@]}
valid=$((total - invalid - equivalent))
rate="n/a"
if [[ $valid -gt 0 ]]; then rate="$(awk -v s="$survived" -v v="$valid" 'BEGIN { printf "%.1f%%", 100 * s / v }')"; fi
echo
echo "$total mutants: $killed killed, $survived survived, $invalid invalid, $equivalent equivalent" \
    "(survival rate among valid non-equivalent mutants: $rate; $(($(seconds) - started)) s)"
[[ ${#survivors[@]} -eq 0 ]] || echo "survived: ${survivors[*]}"
[[ ${#invalids[@]} -eq 0 ]] || echo "invalid (do not compile, or killed although marked EQUIVALENT): ${invalids[*]} (logs in $logs)"
[[ ${#equivalents[@]} -eq 0 ]] || echo "equivalent (explained in mutants.tsv): ${equivalents[*]}"
[[ $survived -eq 0 && ${#invalids[@]} -eq 0 ]]
