using ReplayVm.Replica.Wire;

namespace ReplayVm.Replica;

/// <summary>
/// A long control request's reports to its requester (<c>replayvm migrate</c>, and the protect
/// request of <c>replayvm backup --join</c>), with a keepalive:
/// an empty report whenever nothing has gone out for <see cref="Interval"/>, sent from a thread of
/// its own. The requester takes silence for its patience (30 s by default) as a dead or stuck
/// replica, and some phases of a migration block without a word for longer: the connect and
/// handshake to the target (up to 10 s) and the wait for the guest to reach a pause point for the
/// target's join (up to 30 s). Reports are best effort: a requester that went away must not stop
/// the migration.
/// </summary>
internal sealed class RequesterReports : IDisposable
{
    /// <summary>The longest the requester hears nothing while the request is in progress (about).</summary>
    internal static readonly TimeSpan Interval = TimeSpan.FromSeconds(1);

    private readonly SecureChannel _channel;
    private readonly object _gate = new();
    private readonly Thread _keepalive;
    private long _lastSent = Environment.TickCount64;
    private bool _done;

    public RequesterReports(SecureChannel channel)
    {
        _channel = channel;
        _keepalive = new Thread(KeepAlive) { IsBackground = true, Name = "requester keepalive" };
        _keepalive.Start();
    }

    /// <summary>Sends a progress line (empty: only "still working").</summary>
    public void Report(string text)
    {
        lock (_gate) _lastSent = Environment.TickCount64;
        Send(text);
    }

    private void KeepAlive()
    {
        while (true)
        {
            lock (_gate)
            {
                long wait = _lastSent + (long)Interval.TotalMilliseconds - Environment.TickCount64;
                if (_done) return;
                if (wait > 0)
                {
                    Monitor.Wait(_gate, (int)wait);
                    continue;
                }
                _lastSent = Environment.TickCount64;
            }
            // Outside the gate: a send to a requester that stopped reading may block, and must not block the migration's own reports.
            Send("");
        }
    }

    private void Send(string text)
    {
        try
        {
            _channel.Send((byte)MessageType.ControlProgress, new PayloadWriter().Text(text).ToArray());
        }
        catch (Exception e) when (e is IOException or ObjectDisposedException or System.Net.Sockets.SocketException)
        {
        }
    }

    /// <summary>
    /// Stops the keepalive, before the request's answer goes out (the requester reads nothing past
    /// it). Bounded: a keepalive blocked sending to a requester that stopped reading must not hold
    /// up the answer's own (equally futile) attempt.
    /// </summary>
    public void Dispose()
    {
        lock (_gate)
        {
            _done = true;
            Monitor.PulseAll(_gate);
        }
        _keepalive.Join(TimeSpan.FromSeconds(5));
    }
}
