using System.Diagnostics;
using dotnet_etcd;
using Etcdserverpb;
using Google.Protobuf;
using Grpc.Core;
using Grpc.Net.Client;

namespace ReplayVm.Replica.Arbiter;

/// <summary>
/// The arbiter for replicas on different hosts: etcd, through the maintained dotnet-etcd gRPC
/// client. A replica wins by a transaction that creates the key <c>/replayvm/NAME/live</c> only if
/// it does not exist (its create revision is 0), bound to a lease of <c>ttl</c> seconds that the
/// holder keeps alive; the same transaction reads the successor token the previous holder left.
/// etcd's transactions are serialisable, so two replicas can never both create the key.
/// <para>A holder that dies stops renewing: etcd deletes the key when the lease expires (after at
/// most the TTL), and only then can a backup win — a failover over etcd takes up to the TTL. A
/// holder that cannot renew for half the TTL (etcd unreachable, the holder starved) counts the
/// arbiter as lost and stops being live before the lease can expire and anyone else can win.
/// The successor token is written only by a transaction that checks that the writer still owns
/// the live key under its lease, so a replica that lost the arbiter can never name a successor
/// (nor release output on the strength of having done so).</para>
/// </summary>
public sealed class EtcdArbiter : IArbiter
{
    private readonly GrpcChannel _channel;
    private readonly EtcdClient _client;
    private readonly Lease.LeaseClient _leases;
    private readonly ByteString _liveKey, _successorKey, _owner;
    private readonly int _ttl;
    private readonly Stopwatch _clock = Stopwatch.StartNew();
    private readonly CancellationTokenSource _stop = new();
    private long _lease;
    private TimeSpan _leaseGranted, _lastRenewed;
    private volatile bool _held;
    private string? _previous;
    private Thread? _keeper;

    public EtcdArbiter(string host, int port, string name, int ttlSeconds)
    {
        Description = $"etcd://{host}:{port}/{name}";
        _ttl = ttlSeconds;
        _channel = GrpcChannel.ForAddress($"http://{host}:{port}");
        _client = new EtcdClient(_channel.CreateCallInvoker());
        _leases = new Lease.LeaseClient(_channel);
        _liveKey = ByteString.CopyFromUtf8($"/replayvm/{name}/live");
        _successorKey = ByteString.CopyFromUtf8($"/replayvm/{name}/successor");
        _owner = ByteString.CopyFromUtf8($"replayvm pid {Environment.ProcessId} on {Environment.MachineName} ({Guid.NewGuid():N})");
    }

    public string Description { get; }

    public bool Held => _held;

    /// <summary>How long a dead holder may still hold the arbiter: the lease's TTL.</summary>
    public TimeSpan HolderExpiry => TimeSpan.FromSeconds(_ttl);

    public event Action<string>? Lost;

    private static DateTime Soon() => DateTime.UtcNow.AddSeconds(3);

    public bool TryAcquire(TimeSpan patience)
    {
        if (_held) return true;
        var deadline = _clock.Elapsed + patience;
        while (true)
        {
            if (TryOnce()) return true;
            if (_clock.Elapsed >= deadline) return false;
            Thread.Sleep(50);
        }
    }

    private bool TryOnce()
    {
        try
        {
            // A spare lease is reused between attempts while it is young; an old one may expire under a fresh key.
            if (_lease == 0 || _clock.Elapsed - _leaseGranted > TimeSpan.FromSeconds(_ttl) / 2)
            {
                _lease = _client.LeaseGrant(new LeaseGrantRequest { TTL = _ttl }, deadline: Soon()).ID;
                _leaseGranted = _clock.Elapsed;
            }
            var txn = new TxnRequest();
            txn.Compare.Add(new Compare { Key = _liveKey, Target = Compare.Types.CompareTarget.Create, Result = Compare.Types.CompareResult.Equal, CreateRevision = 0 });
            txn.Success.Add(new RequestOp { RequestPut = new PutRequest { Key = _liveKey, Value = _owner, Lease = _lease } });
            txn.Success.Add(new RequestOp { RequestRange = new RangeRequest { Key = _successorKey } });
            var response = _client.Transaction(txn, deadline: Soon());
            if (!response.Succeeded) return false;
            var kvs = response.Responses[1].ResponseRange.Kvs;
            _previous = kvs.Count > 0 ? kvs[0].Value.ToStringUtf8() : null;
            _lastRenewed = _leaseGranted;
            _held = true;
            _keeper = new Thread(KeepAlive) { IsBackground = true, Name = "etcd lease keeper" };
            _keeper.Start();
            return true;
        }
        catch (RpcException e) when (e.StatusCode == StatusCode.NotFound)
        {
            _lease = 0; // the spare lease expired: the next attempt grants another
            return false;
        }
        catch (RpcException e)
        {
            throw new ReplicaException($"{Description}: cannot reach etcd ({e.Status.StatusCode}: {e.Status.Detail})");
        }
    }

    /// <summary>Renews the lease every quarter TTL; no renewal for half the TTL, or an expired lease, loses the arbiter.</summary>
    private void KeepAlive()
    {
        var period = TimeSpan.FromSeconds(_ttl) / 4;
        while (!_stop.Token.WaitHandle.WaitOne(period) && _held)
        {
            var sent = _clock.Elapsed;
            try
            {
                using var call = _leases.LeaseKeepAlive(deadline: DateTime.UtcNow + TimeSpan.FromSeconds(_ttl) / 2, cancellationToken: _stop.Token);
                call.RequestStream.WriteAsync(new LeaseKeepAliveRequest { ID = _lease }).GetAwaiter().GetResult();
                if (!call.ResponseStream.MoveNext(_stop.Token).GetAwaiter().GetResult()) throw new RpcException(new Status(StatusCode.Unavailable, "no answer"));
                if (call.ResponseStream.Current.TTL <= 0)
                {
                    Lose("its lease expired");
                    return;
                }
                call.RequestStream.CompleteAsync().GetAwaiter().GetResult();
                _lastRenewed = sent;
            }
            catch (Exception e) when (e is RpcException or OperationCanceledException or IOException or InvalidOperationException)
            {
                if (_stop.IsCancellationRequested) return;
            }
            if (_clock.Elapsed - _lastRenewed > TimeSpan.FromSeconds(_ttl) / 2)
            {
                Lose($"its lease was not renewed for {(_clock.Elapsed - _lastRenewed).TotalMilliseconds:0} ms (TTL {_ttl} s)");
                return;
            }
        }
    }

    private void Lose(string reason)
    {
        if (!_held) return;
        _held = false;
        Lost?.Invoke(reason);
    }

    public void PublishSuccessor(string token)
    {
        if (!_held) throw new ReplicaException($"{Description}: this replica no longer holds the arbiter");
        var txn = new TxnRequest();
        txn.Compare.Add(new Compare { Key = _liveKey, Target = Compare.Types.CompareTarget.Value, Result = Compare.Types.CompareResult.Equal, Value = _owner });
        txn.Compare.Add(new Compare { Key = _liveKey, Target = Compare.Types.CompareTarget.Lease, Result = Compare.Types.CompareResult.Equal, Lease = _lease });
        txn.Success.Add(new RequestOp { RequestPut = new PutRequest { Key = _successorKey, Value = ByteString.CopyFromUtf8(token) } });
        TxnResponse response;
        try
        {
            response = _client.Transaction(txn, deadline: Soon());
        }
        catch (RpcException e)
        {
            throw new ReplicaException($"{Description}: cannot reach etcd to name the successor ({e.Status.StatusCode}: {e.Status.Detail})");
        }
        if (!response.Succeeded)
        {
            Lose("another replica owns the live key");
            throw new ReplicaException($"{Description}: this replica no longer holds the arbiter (its lease expired)");
        }
    }

    public string? ReadSuccessor() => _previous;

    public void Dispose()
    {
        _stop.Cancel();
        if (_held)
        {
            _held = false;
            try
            {
                // Revoking deletes the live key at once: a migration's target need not wait for the TTL.
                _client.LeaseRevoke(new LeaseRevokeRequest { ID = _lease }, deadline: Soon());
            }
            catch (RpcException)
            {
            }
        }
        _channel.Dispose();
    }
}
