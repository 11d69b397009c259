using ReplayVm.Core.Hart.FloatingPoint;
namespace ReplayVm.Core.Tests.FloatingPoint;
public class ScratchTmp
{
    internal static ulong ShiftRound(UInt128 sig, int shift, bool negative, RoundingMode rm, out bool inexact, ref string log)
    {
        if (shift <= 0)
        {
            inexact = false;
            return (ulong)(sig << -shift);
        }
        UInt128 kept;
        bool half, rest;
        if (shift > 128) { kept = 0; half = false; rest = sig != 0; }
        else if (shift == 128) { kept = 0; half = (sig >> 127) != 0; rest = (sig << 1) != 0; }
        else
        {
            kept = sig >> shift;
            UInt128 halfBit = UInt128.One << (shift - 1);
            half = (sig & halfBit) != 0;
            rest = (sig & (halfBit - 1)) != 0;
            
        }
        inexact = half || rest;
        ulong m = (ulong)kept;
        bool up = rm switch
        {
            RoundingMode.NearestEven => half && (rest || (m & 1) != 0),
            RoundingMode.TowardZero => false,
            RoundingMode.Down => inexact && negative,
            RoundingMode.Up => inexact && !negative,
            _ => half,
        };
        
        return up ? m + 1 : m;
    }

    [Fact]
    public void Scratch()
    {
        string s = "";
        ulong r = ShiftRound(3, 1, false, RoundingMode.NearestEven, out _, ref s);
        for (int i = 0; i < 3; i++) { var f = FloatFlags.None; s += $" rp=0x{SoftFloat<Binary32>.RoundPack(false, -150, (UInt128)3, RoundingMode.NearestEven, ref f):x} add=0x{SoftFloat<Binary32>.Add(0x3F800003, 0x33800000, RoundingMode.NearestEven, ref f):x}"; }
        Assert.Fail(s + " r=" + r);
    }
}
