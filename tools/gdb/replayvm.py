# gdb commands for debugging a ReplayVm recording, in the spirit of rr's:
#
#   when                     the current event (instructions retired plus exceptions taken)
#   seek N                   go to event N, and show where that is
#   last-write EXPR|REG|ADDR [LEN]
#                            when was this last written, by which instruction (without moving):
#                            a C lvalue (state.secret, buf[3], *p), a register (a0, $sp) or an address
#   traps [N]                the next N traps and interrupts
#   checkpoint               keep a checkpoint here, numbered as gdb numbers its own
#   restart N                go back (or forward) to checkpoint N
#   info checkpoints         list them;  delete checkpoint N  forgets one
#
# Load it with `gdb-multiarch -x tools/gdb/replayvm.py` (tools/demo --gdb does) or `source` it. Each
# command is a thin layer over `monitor ...` of `replayvm gdb` (`monitor help` lists those); what
# this file adds is what gdb must do on its side: flush its register cache after a move, evaluate C
# expressions to addresses and sizes, and stand in for gdb's own checkpoint/restart, which need a
# fork() a bare-metal guest does not have ("can't find fork function").
#
# A recording is read-only, so this also sets `may-write-memory off`: gdb then says plainly that
# writing is not allowed instead of "Cannot access memory" (register writes are refused by the
# server with its own message).

import re

import gdb

_REFRESH_HINT = re.compile(r"^\(gdb shows the new state after .*\)$")


def _monitor(command):
    """Runs `monitor COMMAND` and returns its output, without the hint about gdb's register cache."""
    output = gdb.execute("monitor " + command, to_string=True)
    lines = [line for line in output.splitlines() if not _REFRESH_HINT.match(line.strip())]
    return "\n".join(lines)


def _show_where_we_are():
    """gdb caches registers and frames: after the server moved, drop them and show the new place."""
    try:
        gdb.execute("maintenance flush register-cache", to_string=True)
    except gdb.error:
        gdb.execute("flushregs", to_string=True)
    try:
        gdb.execute("frame")
    except gdb.error as e:
        print(e)


def _moved(output):
    return output.startswith(("Current event", "Restarted", "step ", "interrupted"))


class When(gdb.Command):
    """Print the current event: instructions retired plus exceptions taken since reset (rr's `when`)."""

    def __init__(self):
        super().__init__("when", gdb.COMMAND_RUNNING)

    def invoke(self, argument, from_tty):
        print(_monitor("when"))


class Seek(gdb.Command):
    """Go to event N of the recording (decimal or 0x hex) and show where that is.
Usage: seek N"""

    def __init__(self):
        super().__init__("seek", gdb.COMMAND_RUNNING)

    def invoke(self, argument, from_tty):
        if not argument.strip():
            raise gdb.GdbError("usage: seek N (an event, as `when` prints it)")
        output = _monitor("seek " + argument.strip())
        print(output)
        if _moved(output):
            _show_where_we_are()


class LastWrite(gdb.Command):
    """When was this last written, and by which instruction? The position stays where it is.
Usage: last-write EXPR | REGISTER | ADDRESS [LENGTH]
  EXPR      a C lvalue: state.secret, buf[3], *p (its address and size come from its type)
  REGISTER  a0, $sp, x5, fa0
  ADDRESS   0x80001000, with LENGTH bytes (1 by default)
`seek` to the event it prints to see the instruction about to run."""

    _REGISTER = re.compile(r"^\$?(zero|ra|sp|gp|tp|fp|pc|[xf]\d+|t[0-6]|s\d+|a[0-7]|f[tsa]\d+)$")
    _NUMBER = re.compile(r"^(0x[0-9a-fA-F_]+|\d+)$")

    def __init__(self):
        super().__init__("last-write", gdb.COMMAND_DATA, gdb.COMPLETE_EXPRESSION)

    def invoke(self, argument, from_tty):
        words = argument.split()
        if not words:
            raise gdb.GdbError("usage: last-write EXPR | REGISTER | ADDRESS [LENGTH]")
        if self._REGISTER.match(words[0]) or (self._NUMBER.match(words[0]) and len(words) <= 2):
            print(_monitor("last-write " + " ".join(words)))
            return
        try:
            value = gdb.parse_and_eval(argument)
        except gdb.error as e:
            raise gdb.GdbError(f"last-write: {e}")
        if value.address is None:
            raise gdb.GdbError(f"last-write: '{argument}' is not in memory (try a variable, a field, *pointer or a register)")
        address = int(value.address.cast(gdb.lookup_type("unsigned long")))
        print(_monitor(f"last-write 0x{address:x} {max(1, value.type.sizeof)}"))


class Traps(gdb.Command):
    """List the next N traps and interrupts after here (10 by default): event, cause, pc.
Usage: traps [N]"""

    def __init__(self):
        super().__init__("traps", gdb.COMMAND_STATUS)

    def invoke(self, argument, from_tty):
        print(_monitor(("traps " + argument.strip()).strip()))


class Checkpoint(gdb.Command):
    """Keep a checkpoint of the recording here; `restart N` comes back to it.
(Replaces gdb's fork-based checkpoint, which a recording cannot use.)"""

    def __init__(self):
        super().__init__("checkpoint", gdb.COMMAND_RUNNING)

    def invoke(self, argument, from_tty):
        print(_monitor("checkpoint"))


class Restart(gdb.Command):
    """Go to checkpoint N (as `info checkpoints` lists them) and show where that is.
Usage: restart N"""

    def __init__(self):
        super().__init__("restart", gdb.COMMAND_RUNNING)

    def invoke(self, argument, from_tty):
        if not argument.strip():
            raise gdb.GdbError("usage: restart N (a checkpoint number; info checkpoints lists them)")
        output = _monitor("restart " + argument.strip())
        print(output)
        if _moved(output):
            _show_where_we_are()


class InfoCheckpoints(gdb.Command):
    """List the recording's numbered checkpoints (* marks the one here)."""

    def __init__(self):
        super().__init__("info checkpoints", gdb.COMMAND_STATUS)

    def invoke(self, argument, from_tty):
        print(_monitor("checkpoints"))


class DeleteCheckpoint(gdb.Command):
    """Forget checkpoint N.
Usage: delete checkpoint N"""

    def __init__(self):
        super().__init__("delete checkpoint", gdb.COMMAND_RUNNING)

    def invoke(self, argument, from_tty):
        if not argument.strip():
            raise gdb.GdbError("usage: delete checkpoint N")
        print(_monitor("delete-checkpoint " + argument.strip()))


for command in (When, Seek, LastWrite, Traps, Checkpoint, Restart, InfoCheckpoints, DeleteCheckpoint):
    command()

gdb.execute("set may-write-memory off")
