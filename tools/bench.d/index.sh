# tools/bench --index: the persistent-checkpoint figures of issue 14 (sourced by tools/bench).
#
# Records OpenSBI + U-Boot for 3x10^9 instructions (REPLAYVM_BENCH_INDEX_STEPS overrides): an
# S-mode OS (U-Boot) on M-mode firmware that boots, calls the firmware (SBI ecalls), then idles
# busy-polling at its prompt (no bundled guest runs that long; xv6 is not bundled), times
# `replayvm index` on it and reports the sidecar's size, then tools/bench.d/IndexSeek opens fresh
# timelines and times opening while a sidecar builds behind, a seek to the far end, and a
# reverse-continue to the last ecall (a "syscall" breakpoint, found in the sidecar's trap
# records), with the sidecar and without; finally `replay --jobs 1` against `--jobs 2` (wall and
# CPU time; on a loaded 2-core machine the wall-time ratio says little).

index_steps=${REPLAYVM_BENCH_INDEX_STEPS:-3000000000}

index_section() {
    local helper_dir="$root/tools/bench.d/IndexSeek"
    local helper="$helper_dir/bin/Release/net10.0/replayvm-bench-index-seek"
    if [ "$build" = 1 ]; then
        echo "index: building tools/bench.d/IndexSeek (Release) ..." >&2
        if ! dotnet build -c Release "$helper_dir" -v quiet -nologo >"$work/index-build.log" 2>&1; then
            tail -n 30 "$work/index-build.log" >&2
            die "building tools/bench.d/IndexSeek failed (last 30 lines of its log above)"
        fi
    fi
    [ -x "$helper" ] || die "$helper not found (build it, or drop --skip-build)"

    local trace="$work/index-uboot.rvtrace"
    echo "index: recording OpenSBI + U-Boot for $index_steps instructions ..." >&2
    # Exit status 124: the instruction limit, which is what we asked for.
    "$replayvm" record --deterministic --bios "$opensbi" --kernel "$uboot" --max-instructions "$index_steps" \
        -o "$trace" </dev/null >"$work/index-rec.out" 2>"$work/index-rec.err" || [ $? = 124 ] \
        || die "recording U-Boot failed: $(tail -n 1 "$work/index-rec.err")"

    echo "index: building the sidecar ..." >&2
    local build_ns
    build_ns=$(time_cmd index-build "$replayvm" index "$trace")
    echo "index: timing seeks and reverse-continue (IndexSeek, $runs runs with the index, 1 without) ..." >&2
    "$helper" "$trace" --runs "$runs" --runs-without 1 >"$work/index.out" 2>"$work/index.err" \
        || die "IndexSeek failed: $(tail -n 1 "$work/index.err")"
    local -A ix
    local key value
    while read -r key value; do ix[$key]=$value; done <"$work/index.out"

    echo "index: replay --jobs 1 and --jobs 2, $runs runs each ..." >&2
    local j r
    : >"$work/index-jobs.txt"
    for r in $(seq "$runs"); do
        for j in 1 2; do
            /usr/bin/time -f "$j %e %U" -a -o "$work/index-jobs.txt" "$replayvm" replay --jobs "$j" "$trace" \
                </dev/null >/dev/null 2>"$work/index-replay.err" || [ $? = 124 ] || die "replay --jobs $j failed: $(tail -n 1 "$work/index-replay.err")"
        done
    done

    echo
    echo "Persistent checkpoints on OpenSBI + U-Boot, ${ix[steps]} steps (min/median/max ms; load average at the start: $(cut -d' ' -f1-3 /proc/loadavg))"
    echo "sidecar: ${ix[snapshots]} snapshots and ${ix[traps]} traps, ${ix[index_bytes]} bytes ($(calc 'printf "%.2f", b * 1e9 / s / 1048576' b="${ix[index_bytes]}" s="${ix[steps]}") MiB per 10^9 steps), built in $(median_ms "$build_ns") ms; opened and checked in ${ix[open_ms]} ms (+ ${ix[identity_ms]} ms hashing the trace)"
    printf '%-44s %24s %24s\n' measure "with sidecar" "without"
    printf '%-44s %24s %24s\n' "open (first screen's state) while it builds" "" "${ix[open_building_ms]}"
    printf '%-44s %24s %24s\n' "seek to the far end (fresh timeline)" "${ix[seek_far_with_ms]}" "${ix[seek_far_without_ms]}"
    printf '%-44s %24s %24s\n' "then seek back to the middle" "${ix[seek_back_with_ms]}" ""
    printf '%-44s %24s %24s\n' "reverse-continue ${ix[reverse_continue_distance]} steps back" "${ix[reverse_continue_with_ms]}" "${ix[reverse_continue_without_ms]}"
    printf '%-44s %24s %24s\n' "reverse-continue ${ix[reverse_far_distance]} steps back" "${ix[reverse_far_with_ms]}" "${ix[reverse_far_without_ms]}"
    printf '%-44s %24s %24s\n' "continue ${ix[continue_far_distance]} steps ahead" "${ix[continue_far_with_ms]}" "${ix[continue_far_without_ms]}"
    echo "(the last two: a pc on a page the sidecar's executed-page lists show run in no later (earlier) stretch; 'none' when the recording has no such page that far away; without the sidecar, continue replays those steps on one machine)"
    echo "(reverse-continue target ${ix[reverse_continue_target]}: ecall@ is the last ecall before the far end, pc@ a pc first run at 2% of the recording when it has no ecall)"
    awk '{ n[$1]++; w[$1, n[$1]] = $2; u[$1, n[$1]] = $3 }
         END { for (j = 1; j <= 2; j++) { printf "replay --jobs %d: wall s", j; for (i = 1; i <= n[j]; i++) printf " %s", w[j, i];
                                          printf "; CPU s"; for (i = 1; i <= n[j]; i++) printf " %s", u[j, i]; printf "\n" } }' "$work/index-jobs.txt"
    echo "Each figure opens a fresh Timeline in-process (as gdb or debug does on opening a trace)."
}
