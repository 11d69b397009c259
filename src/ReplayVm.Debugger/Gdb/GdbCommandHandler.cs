using System.Globalization;
using System.Text;

namespace ReplayVm.Debugger.Gdb;

/// <summary>
/// Turns one decoded RSP packet into a reply for one client session (gdb manual, appendix E "Packets").
/// It holds the session's state: no-ack mode, the last stop, and the points the client inserted (removed
/// again when the session ends, so the next client starts clean). Unknown packets get the empty reply,
/// malformed ones E01, failed ones E02 (or "E.reason" where gdb shows the reason). No packet makes it
/// throw: a <see cref="DebugTargetException"/> becomes an error reply; any other exception is a bug in
/// ReplayVm and is left to the server, which reports it loudly.
/// </summary>
public sealed class GdbCommandHandler
{
    /// <summary>Largest packet we accept or send, as advertised in qSupported (bytes, hex in the reply).</summary>
    public const int PacketSize = 0x4000;

    /// <summary>gdb's one thread id for a single-hart, single-process target.</summary>
    private const string ThreadId = "1";

    private const int SigTrap = 5;
    private const int SigInt = 2;

    private readonly IDebugTarget _target;
    private readonly List<(BreakpointType Type, ulong Address, ulong Length)> _inserted = [];
    private StopEvent? _lastStop;

    public GdbCommandHandler(IDebugTarget target) => _target = target;

    /// <summary>True after QStartNoAckMode: neither side sends '+'/'-' any more.</summary>
    public bool NoAckMode { get; private set; }

    /// <summary>Handles one packet; a target that cannot do what was asked gives an error reply.</summary>
    public GdbReply Handle(ReadOnlySpan<byte> payload)
    {
        string packet = RspCodec.AsText(payload);
        try
        {
            return Dispatch(packet, payload);
        }
        catch (DebugTargetException e)
        {
            return GdbReply.Error(e.Message);
        }
    }

    /// <summary>Remembers a stop (for '?') and formats its stop reply.</summary>
    public string RecordStop(StopEvent stop)
    {
        _lastStop = stop;
        return FormatStop(stop);
    }

    /// <summary>Removes the points this session left behind; called when the client goes away.</summary>
    public void EndSession()
    {
        foreach (var (type, address, length) in _inserted)
        {
            try { _target.RemoveBreakpoint(type, address, length); }
            catch (Exception e) when (e is not OutOfMemoryException) { /* the target is gone too */ }
        }
        _inserted.Clear();
    }

    private GdbReply Dispatch(string packet, ReadOnlySpan<byte> payload)
    {
        if (packet.Length == 0) return GdbReply.Unsupported;
        string args = packet[1..];
        return packet[0] switch
        {
            '?' => new GdbReply.Send(FormatStop(_lastStop ?? StopEvent.StepDone(_target.ReadPc()))),
            'g' => args.Length == 0 ? ReadGeneralRegisters() : GdbReply.BadArguments,
            'G' => WriteGeneralRegisters(args),
            'p' => ReadRegister(args),
            'P' => WriteRegister(args),
            'm' => ReadMemory(args),
            'M' => WriteMemoryHex(args),
            'X' => WriteMemoryBinary(payload[1..]),
            'Z' => InsertOrRemove(args, insert: true),
            'z' => InsertOrRemove(args, insert: false),
            'c' => ResumeAt(args, step: false),
            's' => ResumeAt(args, step: true),
            'b' when args == "c" => Resume("reverse-continue", _target.ReverseContinue),
            'b' when args == "s" => Resume("reverse-stepi", (_, _) => _target.ReverseStep()),
            'H' => args.Length >= 1 ? GdbReply.Ok : GdbReply.BadArguments,
            'T' => args == ThreadId || args == "-1" ? GdbReply.Ok : GdbReply.BadArguments,
            'D' => new GdbReply.Send("OK", ThenEndSession: true),
            'k' => new GdbReply.EndSession(),
            'q' => Query(packet),
            'Q' => packet == "QStartNoAckMode" ? StartNoAck() : GdbReply.Unsupported,
            'v' => VerbosePacket(packet),
            _ => GdbReply.Unsupported,
        };
    }

    private GdbReply StartNoAck()
    {
        NoAckMode = true;
        return GdbReply.Ok;
    }

    // ---- queries ----

    private GdbReply Query(string packet)
    {
        if (packet.StartsWith("qSupported", StringComparison.Ordinal))
        {
            return new GdbReply.Send(string.Create(CultureInfo.InvariantCulture,
                $"PacketSize={PacketSize:x};qXfer:features:read+;ReverseStep+;ReverseContinue+;QStartNoAckMode+;swbreak+;hwbreak+;vContSupported+"));
        }
        if (packet.StartsWith("qXfer:features:read:", StringComparison.Ordinal)) return ReadFeatures(packet["qXfer:features:read:".Length..]);
        if (packet.StartsWith("qRcmd,", StringComparison.Ordinal)) return MonitorCommand(packet["qRcmd,".Length..]);
        if (packet.StartsWith("qAttached", StringComparison.Ordinal)) return new GdbReply.Send("1");
        return packet switch
        {
            "qC" => new GdbReply.Send("QC" + ThreadId),
            "qfThreadInfo" => new GdbReply.Send("m" + ThreadId),
            "qsThreadInfo" => new GdbReply.Send("l"),
            _ => GdbReply.Unsupported,
        };
    }

    // qXfer:features:read:ANNEX:OFFSET,LENGTH -> 'm' + more data, or 'l' + the last of it (binary, escaped on the wire).
    private GdbReply ReadFeatures(string args)
    {
        int colon = args.IndexOf(':');
        if (colon < 0 || !TryParseAddressLength(args[(colon + 1)..], out ulong offset, out ulong length)) return GdbReply.BadArguments;
        if (args[..colon] != "target.xml") return new GdbReply.Send("E00");

        ReadOnlySpan<byte> xml = RiscvGdbRegisters.TargetDescription;
        if (offset >= (ulong)xml.Length) return new GdbReply.Send("l");
        int take = (int)Math.Min(Math.Min(length, (ulong)(PacketSize / 2)), (ulong)xml.Length - offset);
        bool last = (int)offset + take >= xml.Length;
        return new GdbReply.Send((last ? "l" : "m") + RspCodec.AsText(xml.Slice((int)offset, take)));
    }

    private GdbReply MonitorCommand(string hex)
    {
        byte[]? bytes = RspCodec.FromHex(hex);
        if (bytes is null) return GdbReply.BadArguments;
        string command = Encoding.UTF8.GetString(bytes).Trim();
        // On the worker, like a resume: a seek over billions of events shows progress and stops on Ctrl-C.
        return new GdbReply.Run("monitor " + command, (cancel, progress) =>
        {
            string output = _target.Monitor(command, cancel, progress);
            if (output.Length == 0) return new RunOutcome("OK");
            if (!output.EndsWith('\n')) output += "\n";
            return new RunOutcome(RspCodec.ToHex(Encoding.UTF8.GetBytes(output)));
        });
    }

    private GdbReply VerbosePacket(string packet)
    {
        if (packet == "vCont?") return new GdbReply.Send("vCont;c;C;s;S");
        if (packet.StartsWith("vCont;", StringComparison.Ordinal)) return ContinueWithActions(packet["vCont;".Length..]);
        if (packet.StartsWith("vKill", StringComparison.Ordinal)) return new GdbReply.Send("OK", ThenEndSession: true);
        return GdbReply.Unsupported; // includes vMustReplyEmpty, as it demands
    }

    // vCont;action[:thread];... - the first action that applies to our one thread wins (all-stop mode).
    private GdbReply ContinueWithActions(string actions)
    {
        foreach (string action in actions.Split(';'))
        {
            int colon = action.IndexOf(':');
            string verb = colon < 0 ? action : action[..colon];
            string thread = colon < 0 ? "-1" : action[(colon + 1)..];
            if (thread != "-1" && thread != ThreadId && thread != "p1.1" && thread != "p1.-1") continue;
            if (verb.Length == 0) return GdbReply.BadArguments;
            return verb[0] switch
            {
                // C/S carry a signal to deliver; a machine has no signals to deliver, so they act as c/s.
                'c' or 'C' => Resume("continue", _target.Continue),
                's' or 'S' => Resume("stepi", (_, _) => _target.Step()),
                _ => GdbReply.BadArguments,
            };
        }
        return GdbReply.BadArguments;
    }

    // ---- registers ----

    private GdbReply ReadGeneralRegisters()
    {
        var text = new StringBuilder(RiscvGdbRegisters.GPacketRegisterCount * 16);
        for (int i = 0; i < 32; i++) text.Append(RspCodec.RegisterHex(_target.ReadIntegerRegister(i), 8));
        text.Append(RspCodec.RegisterHex(_target.ReadPc(), 8));
        return new GdbReply.Send(text.ToString());
    }

    private GdbReply WriteGeneralRegisters(string hex)
    {
        if (_target.WriteRefusal is { } refusal) return GdbReply.Error(refusal);
        byte[]? bytes = RspCodec.FromHex(hex);
        if (bytes is null || bytes.Length < RiscvGdbRegisters.GPacketRegisterCount * 8) return GdbReply.BadArguments;
        bool ok = true;
        for (int i = 1; i < 32; i++) ok &= _target.WriteIntegerRegister(i, BitConverter.ToUInt64(bytes, i * 8));
        ok &= _target.WritePc(BitConverter.ToUInt64(bytes, 32 * 8));
        return ok ? GdbReply.Ok : GdbReply.Failed;
    }

    private GdbReply ReadRegister(string args)
    {
        if (!TryParseRegisterNumber(args, out GdbRegister register)) return GdbReply.BadArguments;
        ulong value;
        switch (register.Kind)
        {
            case GdbRegisterKind.Integer: value = _target.ReadIntegerRegister(register.Index); break;
            case GdbRegisterKind.Pc: value = _target.ReadPc(); break;
            case GdbRegisterKind.Float: value = _target.ReadFloatRegister(register.Index); break;
            case GdbRegisterKind.Privilege: value = (ulong)_target.Privilege; break;
            default:
                // A CSR this hart lacks is "unavailable" (all 'x'), which gdb shows as <unavailable>.
                if (!_target.TryReadCsr(register.Index, out value)) return new GdbReply.Send(new string('x', register.Bytes * 2));
                break;
        }
        return new GdbReply.Send(RspCodec.RegisterHex(value, register.Bytes));
    }

    private GdbReply WriteRegister(string args)
    {
        int equals = args.IndexOf('=');
        if (equals < 0 || !TryParseRegisterNumber(args[..equals], out GdbRegister register)) return GdbReply.BadArguments;
        byte[]? bytes = RspCodec.FromHex(args.AsSpan(equals + 1));
        if (bytes is null || bytes.Length != register.Bytes) return GdbReply.BadArguments;
        if (_target.WriteRefusal is { } refusal) return GdbReply.Error(refusal);
        var wide = new byte[8];
        bytes.CopyTo(wide, 0);
        ulong value = BitConverter.ToUInt64(wide);
        bool ok = register.Kind switch
        {
            GdbRegisterKind.Integer => _target.WriteIntegerRegister(register.Index, value),
            GdbRegisterKind.Pc => _target.WritePc(value),
            GdbRegisterKind.Float => _target.WriteFloatRegister(register.Index, value),
            GdbRegisterKind.Csr => _target.TryWriteCsr(register.Index, value),
            _ => false, // the privilege mode only changes by executing the hart
        };
        return ok ? GdbReply.Ok : GdbReply.Failed;
    }

    private static bool TryParseRegisterNumber(string text, out GdbRegister register)
    {
        register = default;
        return RspCodec.TryParseNumber(text, out ulong number) && number < int.MaxValue
            && RiscvGdbRegisters.TryDescribe((int)number, out register);
    }

    // ---- memory ----

    private GdbReply ReadMemory(string args)
    {
        if (!TryParseAddressLength(args, out ulong address, out ulong length)) return GdbReply.BadArguments;
        int count = (int)Math.Min(length, (ulong)(PacketSize / 2 - 8));
        var buffer = new byte[count];
        if (_target.ReadMemory(address, buffer)) return new GdbReply.Send(RspCodec.ToHex(buffer));

        // The manual allows a short read: return the bytes up to the first unreadable one.
        int readable = 0;
        while (readable < count && _target.ReadMemory(address + (ulong)readable, buffer.AsSpan(readable, 1))) readable++;
        return readable == 0 ? GdbReply.Failed : new GdbReply.Send(RspCodec.ToHex(buffer.AsSpan(0, readable)));
    }

    private GdbReply WriteMemoryHex(string args)
    {
        int colon = args.IndexOf(':');
        if (colon < 0 || !TryParseAddressLength(args[..colon], out ulong address, out ulong length)) return GdbReply.BadArguments;
        byte[]? data = RspCodec.FromHex(args.AsSpan(colon + 1));
        if (data is null || (ulong)data.Length != length) return GdbReply.BadArguments;
        if (_target.WriteRefusal is { } refusal) return GdbReply.Error(refusal);
        return data.Length == 0 || _target.WriteMemory(address, data) ? GdbReply.Ok : GdbReply.Failed;
    }

    // X addr,length:binary - the payload is already unescaped by the codec.
    private GdbReply WriteMemoryBinary(ReadOnlySpan<byte> args)
    {
        int colon = args.IndexOf((byte)':');
        if (colon < 0 || !TryParseAddressLength(RspCodec.AsText(args[..colon]), out ulong address, out ulong length)) return GdbReply.BadArguments;
        ReadOnlySpan<byte> data = args[(colon + 1)..];
        if ((ulong)data.Length != length) return GdbReply.BadArguments;
        if (_target.WriteRefusal is { } refusal) return GdbReply.Error(refusal);
        return data.Length == 0 || _target.WriteMemory(address, data) ? GdbReply.Ok : GdbReply.Failed;
    }

    private static bool TryParseAddressLength(string text, out ulong address, out ulong length)
    {
        length = 0;
        int comma = text.IndexOf(',');
        address = 0;
        return comma > 0 && RspCodec.TryParseNumber(text.AsSpan(0, comma), out address)
            && RspCodec.TryParseNumber(text.AsSpan(comma + 1), out length);
    }

    // ---- break and watch points ----

    // Z/z type,addr,kind[;cond...] - conditions and commands are gdb-side extras we do not evaluate.
    private GdbReply InsertOrRemove(string args, bool insert)
    {
        int semicolon = args.IndexOf(';');
        if (semicolon >= 0) args = args[..semicolon];
        string[] parts = args.Split(',');
        if (parts.Length != 3 || parts[0].Length != 1 || parts[0][0] is < '0' or > '9') return GdbReply.BadArguments;
        int type = parts[0][0] - '0';
        if (type > 4) return GdbReply.Unsupported;
        if (!RspCodec.TryParseNumber(parts[1], out ulong address) || !RspCodec.TryParseNumber(parts[2], out ulong length)) return GdbReply.BadArguments;

        var point = ((BreakpointType)type, address, length);
        if (insert)
        {
            if (!_target.InsertBreakpoint(point.Item1, address, length)) return GdbReply.Failed;
            _inserted.Add(point);
            return GdbReply.Ok;
        }
        if (!_target.RemoveBreakpoint(point.Item1, address, length)) return GdbReply.Failed;
        _inserted.Remove(point);
        return GdbReply.Ok;
    }

    // ---- execution ----

    // c [addr] / s [addr]: resume, optionally from a new pc.
    private GdbReply ResumeAt(string args, bool step)
    {
        if (args.Length > 0)
        {
            if (!RspCodec.TryParseNumber(args, out ulong pc)) return GdbReply.BadArguments;
            if (_target.WriteRefusal is { } refusal) return GdbReply.Error(refusal);
            if (!_target.WritePc(pc)) return GdbReply.Failed;
        }
        return step ? Resume("stepi", (_, _) => _target.Step()) : Resume("continue", _target.Continue);
    }

    /// <summary>Resumes the target on the server's worker; the stop reply follows, after a console note about the stop if it has one.</summary>
    private GdbReply.Run Resume(string activity, Func<CancellationToken, IProgress<RunProgress>, StopEvent> run) =>
        new(activity, (cancel, progress) =>
        {
            StopEvent stop = run(cancel, progress);
            return new RunOutcome(RecordStop(stop), ConsoleNote(stop));
        });

    /// <summary>
    /// What gdb's own message for a stop leaves out: at the end of a recording the guest ended by exiting,
    /// gdb says only "No more reverse-execution history", so say how the guest ended and what still works.
    /// </summary>
    private static string? ConsoleNote(StopEvent stop) =>
        stop is { Reason: StopReason.EndOfRecording, GuestExitStatus: { } status }
            ? string.Create(CultureInfo.InvariantCulture,
                $"replayvm: the guest exited with status {status} here, at the end of the recording; reverse-stepi, reverse-continue and monitor still work, kill or detach ends the session\n")
            : null;

    /// <summary>
    /// The stop reply (manual E.3 "Stop Reply Packets"): T + signal, the stop reason, our thread, and the
    /// pc so gdb need not ask for it. Running off the recording uses the "replaylog" reason gdb's reverse
    /// execution understands; an exited guest gives W + status.
    /// </summary>
    public string FormatStop(StopEvent stop)
    {
        if (stop.Reason == StopReason.Exited)
            return string.Create(CultureInfo.InvariantCulture, $"W{stop.ExitStatus & 0xFF:x2}");

        int signal = stop.Reason == StopReason.Interrupted ? SigInt : SigTrap;
        string reason = stop.Reason switch
        {
            StopReason.Breakpoint => stop.BreakpointType == BreakpointType.Hardware ? "hwbreak:;" : "swbreak:;",
            StopReason.Watchpoint => string.Create(CultureInfo.InvariantCulture, $"{WatchName(stop.WatchKind)}:{stop.WatchAddress:x};"),
            StopReason.EndOfRecording => "replaylog:end;",
            StopReason.BeginningOfRecording => "replaylog:begin;",
            _ => "",
        };
        string pc = RspCodec.RegisterHex(stop.Pc, 8);
        return string.Create(CultureInfo.InvariantCulture,
            $"T{signal:x2}{reason}thread:{ThreadId};{RiscvGdbRegisters.PcNumber:x2}:{pc};");
    }

    private static string WatchName(WatchKind kind) => kind switch
    {
        WatchKind.Read => "rwatch",
        WatchKind.Access => "awatch",
        _ => "watch",
    };
}
