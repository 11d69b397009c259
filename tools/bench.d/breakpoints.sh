# tools/bench --breakpoints: `continue` with breakpoints set at full speed (issue 13; sourced by tools/bench).
#
# Records bench.elf, then tools/bench.d/ContinueBreakpoints opens fresh timelines on the trace and
# continues from step 0 to the end, without breakpoints and with three that are never hit (at
# stdio_get, trap_dispatch and vector_slot_99: all on the page of the guest's hot loops, the
# hardest case), on both engines, the modes alternating within each round. Figures are CPU time of
# the helper process (all threads, so the translator's background JIT counts), min/median/max;
# the speed ratio is (CPU without) / (CPU with) per round.

breakpoints_section() {
    local helper_dir="$root/tools/bench.d/ContinueBreakpoints"
    local helper="$helper_dir/bin/Release/net10.0/replayvm-bench-continue"
    if [ "$build" = 1 ]; then
        echo "breakpoints: building tools/bench.d/ContinueBreakpoints (Release) ..." >&2
        if ! dotnet build -c Release "$helper_dir" -v quiet -nologo >"$work/bp-build.log" 2>&1; then
            tail -n 30 "$work/bp-build.log" >&2
            die "building tools/bench.d/ContinueBreakpoints failed (last 30 lines of its log above)"
        fi
    fi
    [ -x "$helper" ] || die "$helper not found (build it, or drop --skip-build)"

    local trace="$work/bp-bench.rvtrace"
    echo "breakpoints: recording bench.elf ..." >&2
    "$replayvm" record "$bench_elf" -o "$trace" </dev/null >"$work/bp-rec.out" 2>"$work/bp-rec.err" \
        || die "recording bench.elf failed: $(tail -n 1 "$work/bp-rec.err")"
    echo "breakpoints: continue with and without breakpoints, $runs rounds ..." >&2
    "$helper" "$trace" "$bench_elf" stdio_get trap_dispatch vector_slot_99 --runs "$runs" \
        >"$work/bp.out" 2>"$work/bp.err" || die "ContinueBreakpoints failed: $(tail -n 1 "$work/bp.err")"
    local -A bp
    local key value
    while read -r key value; do bp[$key]=$value; done <"$work/bp.out"

    echo
    echo "continue over bench.elf's ${bp[steps]} steps with ${bp[breakpoints]%% *} never-hit breakpoints (CPU ms, min/median/max)"
    printf '%-12s %20s %20s %22s\n' engine "no breakpoints" "with breakpoints" "speed with/without"
    local engine
    for engine in interpreter translator; do
        printf '%-12s %20s %20s %22s\n' "$engine" "${bp[${engine}_plain_cpu_ms]}" "${bp[${engine}_breakpoints_cpu_ms]}" "${bp[${engine}_speed_ratio]}"
    done
}
