using System.IO.Hashing;

namespace ReplayVm.Core.State;

/// <summary>A write-only stream that feeds everything written to it into a hash, so a <see cref="BinaryWriter"/> can serialise straight into one.</summary>
internal sealed class HashingStream : Stream
{
    public NonCryptographicHashAlgorithm? Target { get; set; }

    public override void Write(ReadOnlySpan<byte> buffer) => (Target ?? throw new InvalidOperationException("no hash to feed")).Append(buffer);
    public override void Write(byte[] buffer, int offset, int count) => Write(buffer.AsSpan(offset, count));
    public override void WriteByte(byte value) => Write([value]);

    public override bool CanRead => false;
    public override bool CanSeek => false;
    public override bool CanWrite => true;
    public override long Length => throw new NotSupportedException();
    public override long Position { get => throw new NotSupportedException(); set => throw new NotSupportedException(); }
    public override void Flush() { }
    public override int Read(byte[] buffer, int offset, int count) => throw new NotSupportedException();
    public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();
    public override void SetLength(long value) => throw new NotSupportedException();
}
