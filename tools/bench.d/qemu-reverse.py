# gdb-multiarch script (run with `python` sourcing by tools/bench --reverse): QEMU's side of the
# reverse-step figure. Connected to a QEMU replaying an rr recording with rrsnapshot, it goes to
# each position with HMP `replay_break N` + continue (QEMU stops the VM there, gdb sees SIGINT),
# then times `reverse-stepi` a few times, checking with `info replay` that each went back by one.
# Prints "rsi POSITION MS" lines and "error ..." on a failure. Settings come from gdb convenience
# variables: $socket (path of QEMU's gdbstub socket), $positions (space-separated), $steps_back.
import re
import time

import gdb


def replay_icount():
    text = gdb.execute("monitor info replay", to_string=True)
    match = re.search(r"instruction count = (\d+)", text)
    if not match:
        raise gdb.GdbError("no instruction count in 'info replay': " + text.strip())
    return int(match.group(1))


def main():
    socket = gdb.parse_and_eval("$socket").string()
    positions = [int(p) for p in gdb.parse_and_eval("$positions").string().split()]
    steps_back = int(gdb.parse_and_eval("$steps_back"))
    gdb.execute("set pagination off")
    gdb.execute("set confirm off")
    gdb.execute("set architecture riscv:rv64")
    gdb.execute("target remote " + socket, to_string=True)
    for position in positions:
        gdb.execute("monitor replay_break %d" % position, to_string=True)
        gdb.execute("continue", to_string=True)
        at = replay_icount()
        if at != position:
            print("error: replay_break %d stopped at %d" % (position, at))
            return
        for k in range(steps_back):
            start = time.perf_counter()
            gdb.execute("reverse-stepi", to_string=True)
            ms = (time.perf_counter() - start) * 1000
            now = replay_icount()
            if now != position - k - 1:
                print("error: reverse-stepi from %d ended at %d" % (position - k, now))
                return
            print("rsi %d %.3f" % (position - k, ms), flush=True)
    gdb.execute("kill", to_string=True)


try:
    main()
except gdb.error as e:
    print("error: " + str(e).replace("\n", " "))
