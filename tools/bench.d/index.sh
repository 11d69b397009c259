# tools/bench --index (or --timeline): the persistent-checkpoint figures of issue 14 (sourced by tools/bench).
#
# Records OpenSBI + U-Boot for 3.2x10^9 instructions (REPLAYVM_BENCH_INDEX_STEPS overrides): an
# S-mode OS (U-Boot) on M-mode firmware that boots, calls the firmware (SBI ecalls), is stopped at
# its autoboot countdown, runs `sleep 2.6` (a busy wait on the timer, 2.6x10^9 steps) and then
# `version`, and idles busy-polling at its prompt (no bundled guest runs that long; xv6 is not
# bundled), times `replayvm index` on it and reports the sidecar's size, then
# tools/bench.d/IndexSeek opens fresh timelines and times opening while a sidecar builds behind, a
# seek to the far end, a reverse-continue to the last ecall (a "syscall" breakpoint, found in the
# sidecar's trap records), to a pc and to a write watch last hit 2.5x10^9 steps back, and a
# continue to a pc first run 2.5x10^9 steps ahead (the `version` command's code), with the sidecar
# and without; then `replay --jobs 1` against `--jobs 2` (wall and CPU time; on a loaded 2-core
# machine the wall-time ratio says little). Then the same on Linux (tools/guests/linux): boot,
# `ls /`, `sleep 19500` (idle: about 2.7x10^9 steps), `echo late`, recorded to 3x10^9 steps with
# `record --checkpoint-every 10M`, with breakpoints on `ksys_write` (vmlinux's symbol) both ways.

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
    printf 'wait autoboot:\nsend \\x20\nwait =>\\x20\nsend sleep 2.6\\r\nwait =>\\x20\nsend version\\r\nwait =>\\x20\n' >"$work/uboot.script"
    # Exit status 124: the instruction limit, which is what we asked for.
    "$replayvm" record --deterministic --bios "$opensbi" --kernel "$uboot" --max-instructions "$index_steps" \
        --input-script "$work/uboot.script" -o "$trace" </dev/null >"$work/index-rec.out" 2>"$work/index-rec.err" || [ $? = 124 ] \
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
    printf '%-44s %24s %24s\n' "  its CPU time (every thread)" "${ix[seek_far_with_cpu_ms]}" ""
    printf '%-44s %24s %24s\n' "then seek back to the middle" "${ix[seek_back_with_ms]}" ""
    printf '%-44s %24s %24s\n' "reverse-continue ${ix[reverse_continue_distance]} steps back" "${ix[reverse_continue_with_ms]}" "${ix[reverse_continue_without_ms]}"
    printf '%-44s %24s %24s\n' "reverse-continue ${ix[reverse_far_distance]} steps back" "${ix[reverse_far_with_ms]}" "${ix[reverse_far_without_ms]}"
    printf '%-44s %24s %24s\n' "continue ${ix[continue_far_distance]} steps ahead" "${ix[continue_far_with_ms]}" "${ix[continue_far_without_ms]}"
    echo "(the last two: a pc on a page the sidecar's executed-page lists show run in no later (earlier) stretch; 'none' when the recording has no such page that far away; without the sidecar, continue replays those steps on one machine)"
    echo "(reverse-continue target ${ix[reverse_continue_target]}: ecall@ is the last ecall before the far end, pc@ a pc first run at 2% of the recording when it has no ecall)"
    awk '{ n[$1]++; w[$1, n[$1]] = $2; u[$1, n[$1]] = $3 }
         END { for (j = 1; j <= 2; j++) { printf "replay --jobs %d: wall s", j; for (i = 1; i <= n[j]; i++) printf " %s", w[j, i];
                                          printf "; CPU s"; for (i = 1; i <= n[j]; i++) printf " %s", u[j, i]; printf "\n" } }' "$work/index-jobs.txt"
    index_watch_lines ix
    echo "Each figure opens a fresh Timeline in-process (as gdb or debug does on opening a trace)."
    index_linux
}

# index_watch_lines ARRAY: the write-watch and named-symbol lines of an IndexSeek result.
index_watch_lines() {
    local -n r=$1
    printf '%-44s %24s %24s\n' "reverse-continue to a write watch ${r[watch_far_distance]} back" "${r[watch_far_with_ms]}" "${r[watch_far_without_ms]}"
    echo "(the watch: the 4 KiB page at ${r[watch_far_page]}, stored to in no later stretch; ${r[watch_far_skipped]} stretches passed over)"
    if [ "${r[symbol_distance]}" != none ]; then
        printf '%-44s %24s %24s\n' "reverse-continue to the symbol ${r[symbol_distance]} back" "${r[symbol_with_ms]}" "${r[symbol_without_ms]}"
        printf '%-44s %24s %24s\n' "continue to the symbol ${r[symbol_ahead_distance]} ahead" "${r[symbol_ahead_with_ms]}" "${r[symbol_ahead_without_ms]}"
    fi
}

# The Linux target: recorded with its sidecar written as it records, then IndexSeek with ksys_write.
index_linux() {
    local paths image vmlinux initramfs disk trace="$work/index-linux.rvtrace"
    echo "index: building or finding the Linux guest (tools/guests/linux/build) ..." >&2
    paths="$("$root/tools/guests/linux/build" --print-paths)" || die "tools/guests/linux/build failed"
    image="$(sed -n 1p <<<"$paths")" vmlinux="$(sed -n 2p <<<"$paths")" initramfs="$(sed -n 3p <<<"$paths")" disk="$(sed -n 4p <<<"$paths")"
    cp "$disk" "$work/index-linux-disk.img"
    printf 'wait #\\x20\nsend ls /\\r\nwait #\\x20\nsend sleep 19500\\r\nwait #\\x20\nsend echo late\\r\nwait #\\x20\n' >"$work/linux.script"
    echo "index: recording Linux for 3x10^9 instructions with --checkpoint-every 10M ..." >&2
    "$replayvm" record --deterministic --bios "$opensbi" --kernel "$image" --initrd "$initramfs" --append "console=ttyS0 earlycon" \
        --drive "$work/index-linux-disk.img" --input-script "$work/linux.script" --max-instructions 3000000000 --checkpoint-every 10M \
        -o "$trace" </dev/null >"$work/index-linux.out" 2>"$work/index-linux.err" || [ $? = 124 ] \
        || die "recording Linux failed: $(tail -n 1 "$work/index-linux.err")"
    local helper="$root/tools/bench.d/IndexSeek/bin/Release/net10.0/replayvm-bench-index-seek"
    echo "index: IndexSeek on Linux ($runs runs with the index, 1 without) ..." >&2
    "$helper" "$trace" --runs "$runs" --runs-without 1 --symbol "$vmlinux" ksys_write >"$work/index-linux.seek" 2>"$work/index-linux.seek.err" \
        || die "IndexSeek on Linux failed: $(tail -n 1 "$work/index-linux.seek.err")"
    local -A lx
    local key value
    while read -r key value; do lx[$key]=$value; done <"$work/index-linux.seek"
    echo
    echo "Linux (boot, ls /, sleep 19500, echo late), ${lx[steps]} steps; sidecar written while recording: ${lx[snapshots]} snapshots, ${lx[traps]} traps, ${lx[index_bytes]} bytes, opened in ${lx[open_ms]} ms (load average: $(cut -d' ' -f1-3 /proc/loadavg))"
    printf '%-44s %24s %24s\n' measure "with sidecar" "without"
    printf '%-44s %24s %24s\n' "seek to the far end (fresh timeline)" "${lx[seek_far_with_ms]}" "${lx[seek_far_without_ms]}"
    printf '%-44s %24s %24s\n' "  its CPU time (every thread)" "${lx[seek_far_with_cpu_ms]}" ""
    printf '%-44s %24s %24s\n' "reverse-continue to the last ecall ${lx[reverse_continue_distance]} back" "${lx[reverse_continue_with_ms]}" "${lx[reverse_continue_without_ms]}"
    index_watch_lines lx
    echo "(the symbol is ksys_write, the write syscall's entry: continue goes from step ${lx[steps]}/30 to the 'echo late' typed after the sleep; without the sidecar, continue replays those steps on one machine)"
}
