using Terminal.Gui.Input;

namespace ReplayVm.Tui.Views;

/// <summary>The ways a debugger window moves through time, each bound to the same keys in every window.</summary>
public enum Movement
{
    Continue,
    ReverseContinue,
    Next,
    ReverseNext,
    Step,
    ReverseStep,
    Finish,
    ReverseFinish,
}

/// <summary>
/// The one key map of movements, shared by the one-run and the two-run windows so a key never means
/// one thing in <c>debug A</c> and another in <c>debug A B</c>: the function keys of IDE debuggers and
/// gdb's letters (c, n, s, f; Shift reverses, as rr's reverse- commands do).
/// </summary>
public static class MovementKeys
{
    /// <summary>
    /// The movement <paramref name="key"/> stands for, or null. <paramref name="letters"/> is false
    /// while the command line has focus: letters are then typed text, and only function keys move.
    /// </summary>
    public static Movement? For(Key key, bool letters)
    {
        if (key == Key.F5 || (letters && key == Key.C)) return Movement.Continue;
        if (key == Key.F5.WithShift || (letters && key == Key.C.WithShift)) return Movement.ReverseContinue;
        if (key == Key.F10 || (letters && key == Key.N)) return Movement.Next;
        if (key == Key.F10.WithShift || (letters && key == Key.N.WithShift)) return Movement.ReverseNext;
        if (key == Key.F11 || (letters && key == Key.S)) return Movement.Step;
        if (letters && key == Key.S.WithShift) return Movement.ReverseStep;
        if (key == Key.F11.WithShift || (letters && key == Key.F)) return Movement.Finish;
        if (letters && key == Key.F.WithShift) return Movement.ReverseFinish;
        return null;
    }

    /// <summary>The command-line spelling of a movement (gdb's short names).</summary>
    public static string Command(Movement movement) => movement switch
    {
        Movement.Continue => "c",
        Movement.ReverseContinue => "rc",
        Movement.Next => "n",
        Movement.ReverseNext => "rn",
        Movement.Step => "s",
        Movement.ReverseStep => "rs",
        Movement.Finish => "finish",
        Movement.ReverseFinish => "reverse-finish",
        _ => throw new ArgumentOutOfRangeException(nameof(movement)),
    };
}
