# tools/bench --record: record/replay figures of issue 4 (sourced by tools/bench).
#
# bench.elf under `replayvm run`, `record` and `replay` (interleaved, $runs times each, medians),
# the trace's bytes per million instructions, and the demo guest recorded with scripted input for
# bytes per input event. "log" figures subtract the size of a 1-instruction recording of the same
# guest, i.e. the header with its embedded LZ4 image, which every trace carries once.
# Then QEMU's own record/replay (-icount shift=auto,rr=record|replay) on the same guest, against a
# plain run under the same -icount mode. QEMU's rr file does not embed the guest (replay needs the
# same command line and images), and under shift=auto its rdinstret is not an instruction count,
# so its per-instruction figure uses ReplayVm's count of the same ELF.

# info_field FILE KEY: the value column of one line of `replayvm info`.
info_field() { sed -n "s/^$2  *//p" "$1" | head -n 1; }

# input_events INFO_FILE: events other than StateHash and End ("ConsoleInput 8, WallClock 1, ...").
input_events() {
    info_field "$1" events | tr ',' '\n' | awk '
        $1 != "StateHash" && $1 != "End" && $2 ~ /^[0-9]+$/ { n += $2 }
        END { print n + 0 }'
}

record_section() {
    local demo_elf="$root/tools/guests/elf/demo.elf" demo_in="$root/tools/guests/expected/demo.stdin"
    [ -f "$demo_elf" ] && [ -f "$demo_in" ] || die "demo guest or its input missing (run tools/guests/build)"
    local trace="$work/rr-bench.rvtrace" i
    local run_t=() rec_t=() rep_t=()

    echo "record/replay: bench on replayvm run / record / replay, $runs times each ..." >&2
    for ((i = 1; i <= runs; i++)); do
        run_t+=("$(time_cmd rr-run "$replayvm" run "$bench_elf")")
        grep -q '^checksum OK' "$work/rr-run.out" || die "replayvm run computed a wrong bench checksum"
        rec_t+=("$(time_cmd rr-rec "$replayvm" record -o "$trace" "$bench_elf")")
        grep -q '^checksum OK' "$work/rr-rec.out" || die "replayvm record computed a wrong bench checksum"
        rep_t+=("$(time_cmd rr-rep "$replayvm" replay "$trace")")
        cmp -s "$work/rr-rec.out" "$work/rr-rep.out" || die "replayvm replay printed other output than the recording"
    done
    "$replayvm" info "$trace" >"$work/rr-bench.info" 2>&1 || die "replayvm info failed on $trace"
    local steps size base
    steps=$(info_field "$work/rr-bench.info" steps)
    [[ "$steps" =~ ^[0-9]+$ ]] || die "no step count in 'replayvm info' output"
    size=$(file_bytes "$trace")
    # A recording cut at its instruction limit exits with a status of its own (124): the file is what counts.
    "$replayvm" record -o "$work/rr-base.rvtrace" --max-instructions 1 "$bench_elf" </dev/null >/dev/null 2>&1 || true
    [ -s "$work/rr-base.rvtrace" ] || die "replayvm record of a 1-instruction bench wrote no trace"
    base=$(file_bytes "$work/rr-base.rvtrace")

    echo "record/replay: demo with scripted input on replayvm ..." >&2
    local demo_trace="$work/rr-demo.rvtrace" demo_size demo_base demo_events
    "$replayvm" record -o "$demo_trace" --deterministic --input "$demo_in" "$demo_elf" >"$work/rr-demo.out" 2>"$work/rr-demo.err" ||
        die "replayvm record of the demo failed: $(tail -n 1 "$work/rr-demo.err")"
    "$replayvm" info "$demo_trace" >"$work/rr-demo.info" 2>&1 || die "replayvm info failed on $demo_trace"
    demo_events=$(input_events "$work/rr-demo.info")
    demo_size=$(file_bytes "$demo_trace")
    "$replayvm" record -o "$work/rr-demo-base.rvtrace" --deterministic --max-instructions 1 "$demo_elf" </dev/null >/dev/null 2>&1 || true
    [ -s "$work/rr-demo-base.rvtrace" ] || die "replayvm record of a 1-instruction demo wrote no trace"
    demo_base=$(file_bytes "$work/rr-demo-base.rvtrace")

    echo "record/replay: bench on QEMU -icount shift=auto plain / rr=record / rr=replay, $runs times each ..." >&2
    local qrr="$work/qemu-bench.rr" q_run=() q_rec=() q_rep=()
    local qargs=("$QEMU" "${QEMU_ARGS[@]}" -kernel "$bench_elf")
    for ((i = 1; i <= runs; i++)); do
        q_run+=("$(time_cmd qrr-run "${qargs[@]}" -icount shift=auto)")
        grep -q '^checksum OK' "$work/qrr-run.out" || die "QEMU computed a wrong bench checksum"
        q_rec+=("$(time_cmd qrr-rec "${qargs[@]}" -icount "shift=auto,rr=record,rrfile=$qrr")")
        grep -q '^checksum OK' "$work/qrr-rec.out" || die "QEMU rr=record computed a wrong bench checksum"
        q_rep+=("$(time_cmd qrr-rep "${qargs[@]}" -icount "shift=auto,rr=replay,rrfile=$qrr")")
        cmp -s "$work/qrr-rec.out" "$work/qrr-rep.out" || die "QEMU rr=replay printed other output than its recording"
    done
    local qsize
    qsize=$(file_bytes "$qrr")

    # QEMU's demo: the input is typed one byte every 30 ms, since a piped burst is not paced by rr.
    echo "record/replay: demo with typed input on QEMU rr=record (up to 20 s) ..." >&2
    local qdemo="$work/qemu-demo.rr" qdemo_status=0 qdemo_note
    (sleep 0.5
     while IFS= read -r -n1 c; do [ -n "$c" ] || c=$'\n'; printf '%s' "$c"; sleep 0.03; done <"$demo_in"
     sleep 25) |
        timeout 20 "$QEMU" -machine virt -bios none -nographic -monitor none \
            -global virtio-mmio.force-legacy=false -device virtio-rng-device -rtc base=2026-01-01T00:00:00 \
            -icount "shift=auto,rr=record,rrfile=$qdemo" -kernel "$demo_elf" >"$work/qemu-demo.out" 2>"$work/qemu-demo.err" ||
        qdemo_status=$?
    if [ "$qdemo_status" = 0 ] && grep -q '^bye' "$work/qemu-demo.out"; then
        qdemo_note="session completed"
    else
        qdemo_note="session did NOT complete (status $qdemo_status): QEMU's rr=record lost typed bytes, e.g. '$(grep -m1 'unknown command' "$work/qemu-demo.out" | tr -d '\r')'"
    fi
    local qdemo_size="n/a" typed
    [ -f "$qdemo" ] && qdemo_size=$(file_bytes "$qdemo")
    typed=$(file_bytes "$demo_in")

    local run_ms rec_ms rep_ms qrun_ms qrec_ms qrep_ms
    run_ms=$(median_ms "${run_t[@]}") rec_ms=$(median_ms "${rec_t[@]}") rep_ms=$(median_ms "${rep_t[@]}")
    qrun_ms=$(median_ms "${q_run[@]}") qrec_ms=$(median_ms "${q_rec[@]}") qrep_ms=$(median_ms "${q_rep[@]}")
    mips() { calc 'printf "%.1f", n / (ms * 1000)' n="$steps" ms="$1"; }
    pct() { calc 'printf "%+.1f%%", (t / base - 1) * 100' t="$1" base="$2"; }

    echo
    echo "Record/replay on bench.elf ($steps instructions, medians of $runs runs, start-up included)"
    printf '%-10s %-14s %10s %8s %12s\n' engine mode "ms med" MIPS "vs run"
    printf '%-10s %-14s %10s %8s %12s\n' replayvm run "$run_ms" "$(mips "$run_ms")" ""
    printf '%-10s %-14s %10s %8s %12s\n' replayvm record "$rec_ms" "$(mips "$rec_ms")" "$(pct "$rec_ms" "$run_ms")"
    printf '%-10s %-14s %10s %8s %12s\n' replayvm replay "$rep_ms" "$(mips "$rep_ms")" "$(pct "$rep_ms" "$run_ms")"
    printf '%-10s %-14s %10s %8s %12s\n' qemu icount-auto "$qrun_ms" "$(mips "$qrun_ms")" ""
    printf '%-10s %-14s %10s %8s %12s\n' qemu rr=record "$qrec_ms" "$(mips "$qrec_ms")" "$(pct "$qrec_ms" "$qrun_ms")"
    printf '%-10s %-14s %10s %8s %12s\n' qemu rr=replay "$qrep_ms" "$(mips "$qrep_ms")" "$(pct "$qrep_ms" "$qrun_ms")"
    printf 'record overhead: replayvm %s (goal < +5%%), QEMU %s\n' "$(pct "$rec_ms" "$run_ms")" "$(pct "$qrec_ms" "$qrun_ms")"
    printf 'replay speed / record speed: replayvm %s, QEMU %s\n' \
        "$(calc 'printf "%.2f", r / p' r="$rec_ms" p="$rep_ms")" "$(calc 'printf "%.2f", r / p' r="$qrec_ms" p="$qrep_ms")"

    echo
    echo "Trace size"
    printf '%-10s %-28s %12s %14s %16s\n' engine recording bytes "log bytes" "log B/M instr"
    printf '%-10s %-28s %12s %14s %16s\n' replayvm "bench ($steps instr)" "$size" "$((size - base))" \
        "$(calc 'printf "%.1f", b / (n / 1e6)' b="$((size - base))" n="$steps")"
    printf '%-10s %-28s %12s %14s %16s\n' qemu "bench (same program)" "$qsize" "$qsize" \
        "$(calc 'printf "%.1f", b / (n / 1e6)' b="$qsize" n="$steps")"
    printf '%-10s %-28s %12s %14s %16s\n' "" "" "" "" "B/input event"
    printf '%-10s %-28s %12s %14s %16s\n' replayvm "demo ($demo_events input events)" "$demo_size" "$((demo_size - demo_base))" \
        "$(calc 'printf "%.1f", b / e' b="$((demo_size - demo_base))" e="$demo_events")"
    printf '%-10s %-28s %12s %14s %16s\n' "" "" "" "" "B/typed byte"
    printf '%-10s %-28s %12s %14s %16s\n' replayvm "demo ($typed bytes typed)" "$demo_size" "$((demo_size - demo_base))" \
        "$(calc 'printf "%.1f", b / t' b="$((demo_size - demo_base))" t="$typed")"
    printf '%-10s %-28s %12s %14s %16s\n' qemu "demo ($typed bytes typed)" "$qdemo_size" "$qdemo_size" \
        "$(calc 'printf "%.1f", b / t' b="$qdemo_size" t="$typed")"
    echo "replayvm: whole file $size bytes = $((size / 1024)) KiB incl. the embedded image ($base bytes for a 1-instruction trace); 'log' excludes that header."
    echo "replayvm demo input events by kind: $(info_field "$work/rr-demo.info" events)"
    echo "QEMU: its rr file holds no guest image (replay needs the same images and command line); its demo recording: $qdemo_note."
}
