using System.Reflection;
using Xunit.Abstractions;
using Xunit.Sdk;

[assembly: TestCollectionOrderer("ReplayVm.Cli.Tests.Support.WallClockTestsFirst", "ReplayVm.Cli.Tests")]

namespace ReplayVm.Cli.Tests.Support;

/// <summary>
/// A test class whose length is set by the wall clock (a session left idle at a guest's prompt for
/// a fixed time), not by the work it does.
/// </summary>
[AttributeUsage(AttributeTargets.Class)]
public sealed class WallClockBoundAttribute : Attribute;

/// <summary>
/// Starts the <see cref="WallClockBoundAttribute"/> classes first, the others in xunit's default
/// order. The two-minute demo session holds one of xunit's two test slots while it idles; started
/// in the middle of the run it was the project's tail (its two minutes ran on after everything
/// else, and the project after it waited). Started first, it idles while the other slot and the
/// project beside this one keep both cores busy.
/// </summary>
public sealed class WallClockTestsFirst : ITestCollectionOrderer
{
    private static readonly string[] WallClockBound = typeof(WallClockTestsFirst).Assembly.GetTypes()
        .Where(t => t.GetCustomAttribute<WallClockBoundAttribute>() is not null)
        .Select(t => t.FullName!)
        .ToArray();

    public IEnumerable<ITestCollection> OrderTestCollections(IEnumerable<ITestCollection> testCollections) =>
        new DefaultTestCollectionOrderer().OrderTestCollections(testCollections)
            .OrderBy(c => IsWallClockBound(c) ? 0 : 1); // a stable sort: the rest keep the default order

    // A class without [Collection] is its own collection, named "Test collection for <full name>".
    private static bool IsWallClockBound(ITestCollection collection) =>
        WallClockBound.Any(name => collection.DisplayName.EndsWith(" " + name, StringComparison.Ordinal)
                                   || collection.DisplayName.Contains(" " + name + " ", StringComparison.Ordinal));
}
