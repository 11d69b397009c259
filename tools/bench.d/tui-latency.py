#!/usr/bin/env python3
"""Key press to redrawn screen in `replayvm debug`, measured the way a user sees it.

Runs the debugger on TRACE inside a detached tmux session, goes to positions spread through the
recording with the command line (`goto N`), and at each one presses the step-back key a few times.
Each latency is measured from just before `tmux send-keys` until `tmux capture-pane` first shows
the new step in the status line ("step N-1"), so it includes delivering the key through the
terminal, the reverse step itself, and Terminal.Gui redrawing every pane. Polling costs a few
milliseconds per capture, so figures are good to about that.

usage: tui-latency.py REPLAYVM TRACE STEPS [--positions N] [--steps-back K]
Prints "key value" lines for tools/bench.
"""
import re
import statistics
import subprocess
import sys
import time


def tmux(*args):
    return subprocess.run(["tmux", *args], check=True, capture_output=True, text=True).stdout


def capture(session):
    return tmux("capture-pane", "-p", "-t", session)


def wait_for(session, pattern, timeout):
    deadline = time.monotonic() + timeout
    regex = re.compile(pattern)
    while True:
        screen = capture(session)
        if regex.search(screen):
            return screen
        if time.monotonic() > deadline:
            raise SystemExit(f"timed out waiting for /{pattern}/; screen:\n{screen}")


def main():
    args = sys.argv[1:]
    if len(args) < 3:
        raise SystemExit(__doc__)
    replayvm, trace, steps = args[0], args[1], int(args[2])
    positions = int(args[args.index("--positions") + 1]) if "--positions" in args else 12
    steps_back = int(args[args.index("--steps-back") + 1]) if "--steps-back" in args else 5
    session = f"replayvm-tui-bench-{time.monotonic_ns()}"
    tmux("new-session", "-d", "-s", session, "-x", "200", "-y", "50", f"{replayvm} debug {trace}")
    samples, seeks = [], []
    try:
        wait_for(session, r"step 0\b", 60)
        for i in range(positions):
            # Spread through the recording, away from both ends.
            target = steps * (2 * i + 1) // (2 * positions)
            start = time.monotonic_ns()
            tmux("send-keys", "-t", session, ":")
            tmux("send-keys", "-t", session, "-l", f"goto {target}")
            tmux("send-keys", "-t", session, "Enter")
            wait_for(session, rf"step {target}\b", 600)
            seeks.append((time.monotonic_ns() - start) / 1e6)
            for k in range(1, steps_back + 1):
                start = time.monotonic_ns()
                tmux("send-keys", "-t", session, "S")
                wait_for(session, rf"step {target - k}\b", 60)
                samples.append((time.monotonic_ns() - start) / 1e6)
        tmux("send-keys", "-t", session, "q")
    finally:
        subprocess.run(["tmux", "kill-session", "-t", session], capture_output=True)
    samples.sort()
    print(f"samples {len(samples)}")
    print(f"median_ms {statistics.median(samples):.1f}")
    print(f"p90_ms {samples[int(0.9 * (len(samples) - 1))]:.1f}")
    print(f"worst_ms {samples[-1]:.1f}")
    print(f"seek_median_ms {statistics.median(seeks):.0f}")
    # The floor: what one capture costs, so the reader can tell polling from work.
    t0 = time.monotonic_ns()
    for _ in range(5):
        subprocess.run(["tmux", "list-sessions"], capture_output=True)
    print(f"tmux_call_ms {(time.monotonic_ns() - t0) / 5e6:.1f}")


if __name__ == "__main__":
    main()
