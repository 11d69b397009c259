# tools/bench --tui: responsiveness of the terminal debugger (issue 6), sourced by tools/bench.
#
# Records OpenSBI + U-Boot for 1.2×10^9 instructions (boot, then U-Boot's autoboot countdown: no
# bundled guest runs that long), opens it in `replayvm debug` inside tmux, and times key press to
# redrawn screen for reverse steps at positions spread through the recording
# (tools/bench.d/tui-latency.py). Issue 6's goal: median under 50 ms.

tui_steps=1200000000 tui_positions=8 tui_steps_back=5

tui_section() {
    "$root/tools/ensure-packages" tmux
    local trace="$work/tui-uboot.rvtrace"
    echo "tui: recording OpenSBI + U-Boot for $tui_steps instructions ..." >&2
    # Exit status 124: the instruction limit, which is what we asked for.
    "$replayvm" record --deterministic --bios "$opensbi" --kernel "$uboot" --max-instructions "$tui_steps" \
        -o "$trace" </dev/null >"$work/tui-rec.out" 2>"$work/tui-rec.err" || [ $? = 124 ] \
        || die "recording U-Boot failed: $(tail -n 1 "$work/tui-rec.err")"
    echo "tui: timing reverse steps in replayvm debug (tmux) at $tui_positions positions x $tui_steps_back ..." >&2
    python3 "$root/tools/bench.d/tui-latency.py" "$replayvm" "$trace" "$tui_steps" \
        --positions "$tui_positions" --steps-back "$tui_steps_back" >"$work/tui.out" 2>"$work/tui.err" \
        || die "tui-latency failed: $(tail -n 3 "$work/tui.err")"
    local -A tui
    local key value
    while read -r key value; do tui[$key]=$value; done <"$work/tui.out"
    echo
    echo "Terminal debugger: key press to redrawn screen, reverse step, U-Boot trace of $tui_steps instructions (issue 6 goal: median < 50 ms)"
    printf '%-34s %9s %10s %10s %10s\n' measure samples "med ms" "p90 ms" "worst ms"
    printf '%-34s %9s %10s %10s %10s\n' "S (step back) -> screen shows it" "${tui[samples]}" "${tui[median_ms]}" "${tui[p90_ms]}" "${tui[worst_ms]}"
    echo "Measured end to end through tmux (send-keys, then capture-pane until the new step shows); one tmux call costs ${tui[tmux_call_ms]} ms," \
         "so figures include up to about that much polling. 'goto N' across the recording: median ${tui[seek_median_ms]} ms."
}
