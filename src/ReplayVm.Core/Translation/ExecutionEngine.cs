namespace ReplayVm.Core.Translation;

/// <summary>
/// How the hart executes guest code. Both engines give the same result, step for step: the
/// interpreter is the reference, the translator compiles hot guest code to .NET IL and falls back
/// to the interpreter for everything it does not translate.
/// </summary>
public enum ExecutionEngine
{
    /// <summary>The block translator (see <see cref="RegionCompiler"/>), with the interpreter for cold and rare code.</summary>
    Translator,
    /// <summary>One instruction at a time from the decode cache: the reference engine.</summary>
    Interpreter,
}

public static class ExecutionEngineNames
{
    /// <summary>Parses <c>interpreter</c> or <c>translator</c> (the <c>--engine</c> option); false for anything else.</summary>
    public static bool TryParse(string text, out ExecutionEngine engine)
    {
        switch (text)
        {
            case "interpreter": engine = ExecutionEngine.Interpreter; return true;
            case "translator": engine = ExecutionEngine.Translator; return true;
            default: engine = default; return false;
        }
    }

    public static string Name(this ExecutionEngine engine) => engine == ExecutionEngine.Interpreter ? "interpreter" : "translator";
}
