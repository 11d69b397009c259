using ReplayVm.Tests.Support;

namespace ReplayVm.Replica.Tests.Support;

/// <summary>
/// A console-heavy guest compiled on demand: bursts of numbered lines straight to the UART with
/// busy pauses between them, then an exit through the SiFive test finisher. Its output is long
/// and each byte is distinct enough in context that a lost or doubled byte shows.
/// </summary>
public static class ChatterGuest
{
    private static readonly Lazy<string> Elf = new(() => Build("chatter", []));
    private static readonly Lazy<string> KeyWaitingElf = new(() => Build("chatter-key", ["-DWAIT_FOR_KEY"]));

    public static string Path => Elf.Value;

    /// <summary>
    /// The same guest, but before "chatter done" it waits for one byte on the UART: a test that must
    /// act while the guest still runs (cut a channel, kill a replica) holds it there, however fast the
    /// machine runs the bursts.
    /// </summary>
    public static string KeyWaitingPath => KeyWaitingElf.Value;

    private static readonly Lazy<string> LongKeyWaitingElf = new(() => Build("chatter-long-key", ["-DWAIT_FOR_KEY", "-DBURSTS=2500", "-DPAUSE=100"]));

    /// <summary>
    /// The key-waiting guest with 2500 bursts and short pauses: 2.4 MB of output in about 4×10⁷
    /// steps, more than a small console history (<c>--console-history 1</c>) holds, then it waits.
    /// </summary>
    public static string LongKeyWaitingPath => LongKeyWaitingElf.Value;

    private static readonly Lazy<string> PacedElf = new(() => Build("chatter-paced", ["-DWAIT_FIRST", "-DWAIT_FOR_KEY", "-DBURSTS=2500", "-DPAUSE=50000"]));

    /// <summary>
    /// The long guest, waiting for a key before its first burst too, and with longer pauses (about
    /// 7×10⁸ steps in all): a client attached before the key sees every byte, and keeps up with it.
    /// </summary>
    public static string PacedPath => PacedElf.Value;

    private static readonly Lazy<string> IdlingElf = new(() => Build("chatter-idle", ["-DIDLE_AT_END", "-DBURSTS=60", "-DPAUSE=1000000"]));

    /// <summary>
    /// 60 bursts with long pauses (about 4×10⁸ steps: dozens of batches to a backup), then
    /// "chatter idle" and WFI for good: the primary's guest goes idle, waiting for input.
    /// </summary>
    public static string IdlingPath => IdlingElf.Value;

    /// <summary>The idling guest's whole console output.</summary>
    public static string IdlingOutput =>
        string.Concat(Enumerable.Range(0, 60).SelectMany(burst => Enumerable.Range(0, 16).Select(line => $"burst {burst} line {line} the quick brown fox jumps over the lazy dog\n")))
        + "chatter idle\n";

    private const string Start = """
        .section .text.start, "ax"
        .globl _start
        _start:
          la sp, stack_top
          call main
        1: j 1b
        """;

    private const string Main = """
        #define UART ((volatile unsigned char *)0x10000000)
        #define FINISHER ((volatile unsigned int *)0x100000)
        char stack[4096];
        static void put(char c) { while (!(UART[5] & 0x20)) {} UART[0] = c; }
        static void text(const char *s) { while (*s) put(*s++); }
        static void number(unsigned n) { char b[12]; int i = 0; do { b[i++] = '0' + n % 10; n /= 10; } while (n); while (i) put(b[--i]); }
        #ifndef BURSTS
        #define BURSTS 40
        #endif
        #ifndef PAUSE
        #define PAUSE 250000
        #endif
        static void key(void) { while (!(UART[5] & 0x01)) {} (void)UART[0]; }
        int main(void) {
        #ifdef WAIT_FIRST
          key();
        #endif
          for (unsigned burst = 0; burst < BURSTS; burst++) {
            for (unsigned line = 0; line < 16; line++) {
              text("burst "); number(burst); text(" line "); number(line);
              text(" the quick brown fox jumps over the lazy dog\n");
            }
            for (volatile long i = 0; i < PAUSE; i++) {}
          }
        #ifdef IDLE_AT_END
          text("chatter idle\n");
          for (;;) __asm__ volatile("wfi");
        #endif
        #ifdef WAIT_FOR_KEY
          key();
        #endif
          text("chatter done\n");
          *FINISHER = 0x5555;
          for (;;) {}
        }
        """;

    private const string LinkerScript = """
        ENTRY(_start)
        SECTIONS {
          . = 0x80000000;
          .text : { *(.text.start) *(.text .text.*) }
          .rodata : { *(.rodata .rodata.* .srodata .srodata.*) }
          .data : { *(.data .data.* .sdata .sdata.*) }
          .bss : { *(.bss .bss.* .sbss .sbss.* COMMON) }
          stack_top = stack + 4096;
        }
        """;

    private static string Build(string name, string[] defines)
    {
        string dir = System.IO.Path.Combine(System.IO.Path.GetTempPath(), $"replayvm-{name}-{Environment.ProcessId}");
        Directory.CreateDirectory(dir);
        File.WriteAllText(System.IO.Path.Combine(dir, "start.S"), Start);
        File.WriteAllText(System.IO.Path.Combine(dir, "main.c"), Main);
        File.WriteAllText(System.IO.Path.Combine(dir, "chatter.ld"), LinkerScript);
        TestGuests.Run(dir, "riscv64-unknown-elf-gcc",
            ["-march=rv64imac", "-mabi=lp64", "-O1", "-nostdlib", "-nostartfiles", "-static", "-mcmodel=medany", .. defines, "-T", "chatter.ld", "start.S", "main.c", "-o", "chatter.elf"]);
        return System.IO.Path.Combine(dir, "chatter.elf");
    }
}
