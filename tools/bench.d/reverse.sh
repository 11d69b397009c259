# tools/bench --reverse: reverse-step latency figures of issue 5 and reverse-continue over a whole
# recording against QEMU (issue 14's anchor) (sourced by tools/bench).
#
# ReplayVm: bench.elf recorded whole (~4.2×10^8 instructions; issue 5 asks for ≥ 10^9, which no
# bundled guest reaches), then tools/bench.d/ReverseStep drives the Timeline: one replay to the
# end (leaving automatic checkpoints), then at positions spread through the trace a seek and
# several StepBackward calls, each timed in-process.
# QEMU: the same ELF recorded with -icount shift=auto,rr=record,rrsnapshot=init (the snapshot
# lives in a scratch qcow2 drive), replayed with its gdbstub on a Unix socket; gdb-multiarch goes
# to each position with `monitor replay_break` + continue and times `reverse-stepi` end to end
# (gdb's round trips included). QEMU restores the snapshot and replays forward for every reverse
# step, so its latency grows with the distance from the snapshot (here: the start).
# Then reverse-continue over the whole recording, through gdb on both (tools/bench.d/reverse-continue.py):
# from 1000 steps before the end back to a breakpoint on `main` (run once, ~36000 steps in):
# replayvm's `gdb` on the trace, opened without its sidecar (built behind on first open) and again
# with it; QEMU's replay of its rr recording.

reverse_positions=24 reverse_steps_back=8 qemu_steps_back=2

reverse_section() {
    local helper_dir="$root/tools/bench.d/ReverseStep"
    local helper="$helper_dir/bin/Release/net10.0/replayvm-bench-reverse-step"
    if [ "$build" = 1 ]; then
        echo "reverse: building tools/bench.d/ReverseStep (Release) ..." >&2
        if ! dotnet build -c Release "$helper_dir" -v quiet -nologo >"$work/reverse-build.log" 2>&1; then
            tail -n 30 "$work/reverse-build.log" >&2
            die "building tools/bench.d/ReverseStep failed (last 30 lines of its log above)"
        fi
    fi
    [ -x "$helper" ] || die "$helper not found (build it, or drop --skip-build)"

    local trace="$work/reverse-bench.rvtrace" steps
    echo "reverse: recording bench on replayvm ..." >&2
    time_cmd reverse-rec "$replayvm" record -o "$trace" "$bench_elf" >/dev/null
    "$replayvm" info "$trace" >"$work/reverse.info" 2>&1 || die "replayvm info failed on $trace"
    steps=$(sed -n 's/^steps  *//p' "$work/reverse.info")
    [[ "$steps" =~ ^[0-9]+$ ]] && [ "$steps" -ge 100000000 ] || die "the bench trace has $steps steps, fewer than 10^8"

    echo "reverse: timing Timeline.StepBackward at $reverse_positions positions x $reverse_steps_back steps ..." >&2
    "$helper" "$trace" --positions "$reverse_positions" --steps-back "$reverse_steps_back" \
        >"$work/reverse.out" 2>"$work/reverse.err" || die "ReverseStep failed: $(tail -n 1 "$work/reverse.err")"
    local -A ours
    local key value
    while read -r key value; do ours[$key]=$value; done <"$work/reverse.out"

    # QEMU's side, or a line saying why it could not be measured.
    local qemu_note="" qemu_line
    qemu_reverse && qemu_line=$(qemu_reverse_summary) || qemu_line=""

    echo
    echo "Reverse step on bench.elf (${ours[steps]} instructions; issue 5 goal: median < 10 ms, worst < 100 ms)"
    printf '%-10s %-26s %9s %10s %10s %10s %16s\n' engine method samples "med ms" "p90 ms" "worst ms" "checkpoint mem"
    printf '%-10s %-26s %9s %10s %10s %10s %16s\n' replayvm "Timeline.StepBackward" "${ours[samples]}" \
        "${ours[median_ms]}" "${ours[p90_ms]}" "${ours[worst_ms]}" "${ours[checkpoint_mib]} MiB"
    printf '%-10s %-26s %9s %10s %10s %10s %16s\n' replayvm "  first step after a seek" "${ours[positions]}" \
        "${ours[first_median_ms]}" "" "${ours[first_worst_ms]}" ""
    if [ -n "$qemu_line" ]; then
        local q_n q_med q_p90 q_worst
        read -r q_n q_med q_p90 q_worst <<<"$qemu_line"
        printf '%-10s %-26s %9s %10s %10s %10s %16s\n' qemu "gdb reverse-stepi" "$q_n" "$q_med" "$q_p90" "$q_worst" \
            "$qemu_snapshot_size (disk)"
    else
        printf '%-10s %s\n' qemu "not measured: $qemu_note"
    fi
    echo "replayvm: ${ours[checkpoints]} checkpoints every ${ours[interval]} steps near the focus, ${ours[checkpoint_mib]} MiB of a ${ours[budget_mib]} MiB budget;" \
        "first replay to the end ${ours[first_pass_s]} s; seek median ${ours[seek_median_ms]} ms, worst ${ours[seek_worst_ms]} ms; peak RSS ${ours[peak_rss_mib]} MiB."
    echo "replayvm times the Timeline call in-process; QEMU's figure is gdb's reverse-stepi end to end (remote protocol round trips included)."
    [ -z "$qemu_line" ] || echo "QEMU: one rrsnapshot at instruction 0 ($qemu_snapshot_size in the qcow2 drive); each reverse-stepi reloads it and replays forward, so cost grows with the position: $(qemu_by_position)."
    reverse_continue_rows "$trace" "$steps" "$([ -n "$qemu_line" ] && echo 1 || echo 0)"
}

# wait_ready PID WHAT LOG CHECK...: polls CHECK every 10 ms (for up to 10 s) until it succeeds;
# dies with LOG's last line if PID exits first.
wait_ready() {
    local pid="$1" what="$2" log="$3" tries=0
    shift 3
    until "$@"; do
        kill -0 "$pid" 2>/dev/null || die "$what exited: $(tail -n 1 "$log")"
        tries=$((tries + 1)); [ "$tries" -lt 1000 ] || die "$what was not ready within 10 s"
        sleep 0.01
    done
}

# gdb_reverse_continue TARGET KIND RUNS GDB_ERR: tools/bench.d/reverse-continue.py against one target,
# from $position back to main, RUNS times; prints its seek/rc/error lines.
gdb_reverse_continue() {
    timeout 900 gdb-multiarch -nx --batch -ex "set \$target = \"$1\"" -ex "set \$kind = \"$2\"" \
        -ex "set \$position = $position" -ex 'set $breakpoint = "main"' -ex "set \$runs = $3" \
        -x "$root/tools/bench.d/reverse-continue.py" "$bench_elf" 2>"$4" | grep -E '^(seek|rc|error)' || true
}

# reverse_continue_rows TRACE STEPS QEMU_RECORDED: `reverse-continue` from near the end of the bench
# recording back to `main`, through gdb-multiarch on replayvm and (when its rr recording exists) QEMU.
reverse_continue_rows() {
    local trace="$1" steps="$2" with_qemu="$3" position=$(($2 - 1000)) rc_runs=$((runs < 3 ? runs : 3))
    echo "reverse: timing reverse-continue over the recording on replayvm ($rc_runs runs, a fresh server each) ..." >&2
    local i port pid out="$work/rc-replayvm.out"
    : >"$out"
    for ((i = 1; i <= rc_runs; i++)); do
        rm -f "$trace.rvindex" # each run opens the trace as a first-time user would; the sidecar builds behind
        "$replayvm" gdb "$trace" --port 0 >"$work/rc-gdb.out" 2>&1 </dev/null &
        pid=$!
        wait_ready "$pid" "replayvm gdb" "$work/rc-gdb.out" grep -q 'listening on 127\.0\.0\.1:' "$work/rc-gdb.out"
        port=$(sed -n 's/.*listening on 127\.0\.0\.1:\([0-9]*\).*/\1/p' "$work/rc-gdb.out")
        gdb_reverse_continue "127.0.0.1:$port" replayvm 2 "$work/rc-replayvm.gdb.err" >>"$out"
        kill "$pid" 2>/dev/null || true
        wait "$pid" 2>/dev/null || true
    done
    grep -q '^error' "$out" && die "reverse-continue on replayvm: $(grep -m1 '^error' "$out")"
    local qemu_rc="not measured (no QEMU rr recording)"
    if [ "$with_qemu" = 1 ]; then
        echo "reverse: timing reverse-continue over QEMU's rr recording (1 run: each replays the whole recording twice) ..." >&2
        local sock="$work/qemu-rc.sock" disk="$work/qemu-snap.qcow2" rr="$work/qemu-reverse.rr"
        rm -f "$sock"
        "$QEMU" "${QEMU_ARGS[@]}" -drive "file=$disk,if=none,id=rrsnap" -kernel "$bench_elf" \
            -icount "shift=auto,rr=replay,rrfile=$rr,rrsnapshot=init" \
            -chardev "socket,path=$sock,server=on,wait=off,id=gdb0" -gdb chardev:gdb0 -S </dev/null >/dev/null 2>"$work/qemu-rc.err" &
        pid=$!
        wait_ready "$pid" "QEMU rr=replay" "$work/qemu-rc.err" test -S "$sock"
        gdb_reverse_continue "$sock" qemu 1 "$work/rc-qemu.gdb.err" >"$work/rc-qemu.out"
        kill "$pid" 2>/dev/null || true
        wait "$pid" 2>/dev/null || true
        if grep -q '^rc ' "$work/rc-qemu.out"; then
            qemu_rc="$(awk '$1 == "rc" { printf "%.0f ms to step %d", $2, $3 }' "$work/rc-qemu.out") (going to step $position first: $(awk '$1 == "seek" { printf "%.0f ms", $2 }' "$work/rc-qemu.out"))"
        else
            qemu_rc="not measured: $(grep -m1 '^error' "$work/rc-qemu.out" || tail -n 1 "$work/rc-qemu.gdb.err" 2>/dev/null)"
        fi
    fi
    # Each replayvm run: the first reverse-continue right after the first seek (sidecar building
    # behind), the second with whatever the first left (checkpoints, the sidecar if done).
    echo
    echo "reverse-continue over bench.elf's recording, from step $position back to main (gdb-multiarch, end to end):"
    awk '$1 == "rc" { n++; if (n % 2) first = first " " int($2 + 0.5); else again = again " " int($2 + 0.5); at = $3 }
         $1 == "seek" { m++; if (m % 2) seek = seek " " int($2 + 0.5) }
         END { printf "replayvm: first reverse-continue after opening%s ms (the seek there:%s ms), again%s ms; stops at step %d\n", first, seek, again, at }' "$out"
    echo "qemu:     $qemu_rc"
}

# qemu_reverse: records bench with rrsnapshot, then runs the gdb script; leaves "rsi POS MS" lines
# in $work/qemu-reverse.out. On failure sets qemu_note and returns 1.
qemu_reverse() {
    if ! command -v qemu-img >/dev/null; then
        qemu_note="qemu-img missing (apt-get install qemu-utils): QEMU needs a qcow2 drive to hold its rr snapshot"
        return 1
    fi
    command -v gdb-multiarch >/dev/null || { qemu_note="gdb-multiarch missing (apt-get install gdb-multiarch)"; return 1; }
    local disk="$work/qemu-snap.qcow2" rr="$work/qemu-reverse.rr" sock="$work/qemu-gdb.sock"
    qemu-img create -f qcow2 "$disk" 1M >/dev/null 2>"$work/qemu-img.err" || { qemu_note="qemu-img create failed: $(head -n 1 "$work/qemu-img.err")"; return 1; }
    local qargs=("$QEMU" "${QEMU_ARGS[@]}" -drive "file=$disk,if=none,id=rrsnap" -kernel "$bench_elf")
    echo "reverse: recording bench on QEMU with rrsnapshot=init ..." >&2
    if ! "${qargs[@]}" -icount "shift=auto,rr=record,rrfile=$rr,rrsnapshot=init" </dev/null >"$work/qemu-reverse-rec.out" 2>"$work/qemu-reverse-rec.err"; then
        qemu_note="QEMU rr=record with rrsnapshot failed: $(head -n 1 "$work/qemu-reverse-rec.err")"
        return 1
    fi
    qemu_snapshot_size=$(qemu-img snapshot -l "$disk" | awk '$2 == "init" { print $3, $4 }')

    local positions="" i
    for ((i = 1; i <= reverse_positions; i++)); do
        positions="$positions $((steps / (reverse_positions + 1) * i + i * 7919))"
    done
    echo "reverse: timing QEMU reverse-stepi at $reverse_positions positions x $qemu_steps_back steps (each replays from the start) ..." >&2
    rm -f "$sock"
    "${qargs[@]}" -icount "shift=auto,rr=replay,rrfile=$rr,rrsnapshot=init" \
        -chardev "socket,path=$sock,server=on,wait=off,id=gdb0" -gdb chardev:gdb0 -S \
        </dev/null >"$work/qemu-reverse-rep.out" 2>"$work/qemu-reverse-rep.err" &
    local qpid=$! tries=0
    until [ -S "$sock" ]; do
        kill -0 "$qpid" 2>/dev/null || { qemu_note="QEMU rr=replay exited at once: $(head -n 1 "$work/qemu-reverse-rep.err")"; return 1; }
        tries=$((tries + 1)); [ "$tries" -lt 500 ] || { kill "$qpid"; qemu_note="QEMU's gdbstub socket never appeared"; return 1; }
        sleep 0.01
    done
    timeout 600 gdb-multiarch -nx --batch \
        -ex "set \$socket = \"$sock\"" -ex "set \$positions = \"${positions# }\"" -ex "set \$steps_back = $qemu_steps_back" \
        -x "$root/tools/bench.d/qemu-reverse.py" "$bench_elf" >"$work/qemu-reverse.out" 2>"$work/qemu-reverse.gdb.err" || true
    kill "$qpid" 2>/dev/null || true
    wait "$qpid" 2>/dev/null || true
    if grep -q '^error' "$work/qemu-reverse.out" || ! grep -q '^rsi ' "$work/qemu-reverse.out"; then
        qemu_note="gdb against QEMU's replay failed: $(grep -m1 '^error' "$work/qemu-reverse.out" || tail -n 1 "$work/qemu-reverse.gdb.err")"
        return 1
    fi
}

# qemu_reverse_summary: "samples median p90 worst" (ms) from the rsi lines, quantiles as ReverseStep takes them.
qemu_reverse_summary() {
    awk '$1 == "rsi" { print $3 }' "$work/qemu-reverse.out" | sort -n | awk '
        function q(f,  i) { i = int(NR * f) + 1; return t[i > NR ? NR : i] }
        { t[NR] = $1 }
        END { printf "%d %.3f %.3f %.3f\n", NR, q(0.5), q(0.9), t[NR] }'
}

# qemu_by_position: the first reverse-stepi at the earliest, middle and latest position.
qemu_by_position() {
    awk -v k="$qemu_steps_back" '$1 == "rsi" && (++line % k) == 1 % k { p[++n] = $2; t[n] = $3 }
         END { if (n) printf "%.0f ms at %.2gM, %.0f ms at %.3gM, %.0f ms at %.3gM", t[1], p[1] / 1e6, t[int((n + 1) / 2)], p[int((n + 1) / 2)] / 1e6, t[n], p[n] / 1e6 }' \
        "$work/qemu-reverse.out"
}
