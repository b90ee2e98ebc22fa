using Xunit.Abstractions;

// Budgets measured on every thread must not count another test's work.
[assembly: CollectionBehavior(DisableTestParallelization = true)]

namespace LokiSharp.Benchmarks.Tests;

/// <summary>
/// Each budgeted benchmark case in <c>benchmarks/allocation-budgets.json</c>, run in-process: it fails when one op
/// allocates more than its budget plus the file's tolerance, or when the benchmark no longer exists. Allocations
/// are deterministic where times are not, so this is the part of a benchmark CI can hold.
/// <para>
/// Re-record after an intended change, the way the check measures (Debug, as <c>dotnet test</c> builds):
/// <c>LOKISHARP_RECORD_BUDGETS=1 dotnet test tests/LokiSharp.Benchmarks.Tests</c> rewrites every bytesPerOp in
/// the file (new cases: add an entry, any bytesPerOp, and record).
/// </para>
/// </summary>
public sealed class AllocationBudgetTests(ITestOutputHelper output)
{
    private static readonly AllocationBudgetFile BudgetFile = AllocationBudgetFile.Load();

    public static TheoryData<string> Cases()
    {
        var cases = new TheoryData<string>();
        foreach (var budget in BudgetFile.Budgets)
        {
            cases.Add(budget.ToString());
        }

        return cases;
    }

    [Theory]
    [MemberData(nameof(Cases))]
    public void Benchmark_allocates_within_its_budget(string name)
    {
        if (AllocationBudgetFile.Recording)
        {
            return;
        }

        var budget = BudgetFile.Budgets.Single(b => b.ToString() == name);
        var benchmark = InProcessBenchmark.Resolve(budget, out var missing)
            ?? throw new Xunit.Sdk.XunitException(
                $"{name} is budgeted but no longer exists ({missing}): rename or remove its entry in {AllocationBudgetFile.PathInRepository}.");
        var measured = benchmark.MeasureBytesPerOp(budget.Operations ?? AllocationBudgetFile.DefaultOperations, budget.AllThreads);
        var limit = BudgetFile.Limit(budget);
        output.WriteLine($"{name}: {measured:N0} B/op (budget {budget.BytesPerOp:N0}, limit {limit:N0})");
        Assert.True(measured <= limit,
            $"{name} allocates {measured:N0} B/op, over its budget of {budget.BytesPerOp:N0} B/op + {BudgetFile.Tolerance:P0} (limit {limit:N0}). " +
            $"Find the new allocation, or if it is intended re-record: {AllocationBudgetFile.RecordVariable}=1 dotnet test tests/LokiSharp.Benchmarks.Tests");
    }

    [Fact]
    public void Budget_names_are_unique_and_the_tolerance_is_stated()
    {
        Assert.InRange(BudgetFile.Tolerance, 0.001, 1);
        Assert.NotEmpty(BudgetFile.Budgets);
        var duplicates = BudgetFile.Budgets.GroupBy(b => b.ToString()).Where(g => g.Count() > 1).Select(g => g.Key).ToList();
        Assert.True(duplicates.Count == 0, "budgeted twice: " + string.Join(", ", duplicates));
    }

    /// <summary>With <c>LOKISHARP_RECORD_BUDGETS=1</c>: measures every case and rewrites the file; otherwise nothing.</summary>
    [Fact]
    public void Record_budgets_when_asked()
    {
        if (!AllocationBudgetFile.Recording)
        {
            return;
        }

        var recorded = new List<AllocationBudget>();
        foreach (var budget in BudgetFile.Budgets)
        {
            var benchmark = InProcessBenchmark.Resolve(budget, out var missing)
                ?? throw new Xunit.Sdk.XunitException($"{budget} no longer exists ({missing}): remove or fix its entry before recording.");
            var measured = benchmark.MeasureBytesPerOp(budget.Operations ?? AllocationBudgetFile.DefaultOperations, budget.AllThreads);
            output.WriteLine($"{budget}: {budget.BytesPerOp:N0} -> {measured:N0} B/op");
            recorded.Add(budget with { BytesPerOp = measured });
        }

        (BudgetFile with { Budgets = recorded }).Save(AllocationBudgetFile.PathInRepository);
    }
}
