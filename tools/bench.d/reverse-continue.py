# gdb-multiarch script (sourced by tools/bench --reverse): reverse-continue over a whole recording,
# the same way on QEMU's rr replay and on `replayvm gdb`. It goes to $position (QEMU: HMP
# `replay_break` + continue; replayvm: `monitor seek`), sets a breakpoint at $breakpoint (an address
# run once, near the start) and times `reverse-continue` back to it, checking that it stopped there.
# Prints "seek MS", "rc MS POSITION" lines, or "error ..." on a failure. Settings come from gdb
# convenience variables: $target (what `target remote` takes), $kind ("qemu" or "replayvm"),
# $position, $breakpoint (a symbol of the ELF gdb was given), $runs.
import re
import time

import gdb


def position(kind):
    if kind == "qemu":
        text = gdb.execute("monitor info replay", to_string=True)
        match = re.search(r"instruction count = (\d+)", text)
    else:
        text = gdb.execute("monitor when", to_string=True)
        match = re.search(r"Current event: (\d+)", text)
    if not match:
        raise gdb.GdbError("no position in: " + text.strip())
    return int(match.group(1))


def go_to(kind, step):
    start = time.perf_counter()
    if kind == "qemu":
        gdb.execute("monitor replay_break %d" % step, to_string=True)
        gdb.execute("continue", to_string=True)
    else:
        gdb.execute("monitor seek %d" % step, to_string=True)
        gdb.execute("maintenance flush register-cache", to_string=True)
    return (time.perf_counter() - start) * 1000


def main():
    target = gdb.parse_and_eval("$target").string()
    kind = gdb.parse_and_eval("$kind").string()
    step = int(gdb.parse_and_eval("$position"))
    symbol = gdb.parse_and_eval("$breakpoint").string()
    breakpoint = int(gdb.parse_and_eval("(unsigned long) &%s" % symbol))
    runs = int(gdb.parse_and_eval("$runs"))
    gdb.execute("set pagination off")
    gdb.execute("set confirm off")
    gdb.execute("set architecture riscv:rv64")
    gdb.execute("target remote " + target, to_string=True)
    for _ in range(runs):
        ms = go_to(kind, step)
        at = position(kind)
        if at != step:
            print("error: going to %d stopped at %d" % (step, at))
            return
        print("seek %.3f" % ms, flush=True)
        gdb.execute("break *%d" % breakpoint, to_string=True)
        start = time.perf_counter()
        gdb.execute("reverse-continue", to_string=True)
        ms = (time.perf_counter() - start) * 1000
        pc = int(gdb.parse_and_eval("$pc"))
        if pc != breakpoint:
            print("error: reverse-continue stopped at pc %#x, not at the breakpoint %#x" % (pc, breakpoint))
            return
        print("rc %.3f %d" % (ms, position(kind)), flush=True)
        gdb.execute("delete", to_string=True)
    gdb.execute("kill", to_string=True)


try:
    main()
except gdb.error as e:
    print("error: " + str(e).replace("\n", " "))
