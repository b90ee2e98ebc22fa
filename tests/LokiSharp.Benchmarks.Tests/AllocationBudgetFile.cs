using System.Text.Json;
using System.Text.Json.Serialization;

namespace LokiSharp.Benchmarks.Tests;

/// <summary>One budgeted benchmark case: which benchmark, with which parameters, and what one op may allocate.</summary>
public sealed record AllocationBudget
{
    /// <summary><c>Class.Method</c> of a <c>[Benchmark]</c> in LokiSharp.Benchmarks.</summary>
    public required string Benchmark { get; init; }

    /// <summary>Values for the class's settable properties (its <c>[Params]</c>, and sizes the test makes small).</summary>
    public Dictionary<string, string> Parameters { get; init; } = [];

    /// <summary>
    /// <c>thread</c> (the default) counts what the calling thread allocates; <c>process</c> counts every thread,
    /// for work that continues on others (a WAL commit, parallel evaluation).
    /// </summary>
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public string? Measure { get; init; }

    /// <summary>Measured ops after the warm-up; the default is <see cref="AllocationBudgetFile.DefaultOperations"/>.</summary>
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public int? Operations { get; init; }

    /// <summary>The recorded allocation of one op, in bytes.</summary>
    public long BytesPerOp { get; init; }

    /// <summary>Whether allocations on every thread are counted.</summary>
    [JsonIgnore]
    public bool AllThreads => Measure == "process";

    /// <summary>A readable name: <c>Class.Method(Name=value, ...)</c>.</summary>
    public override string ToString() =>
        Parameters.Count == 0 ? Benchmark : $"{Benchmark}({string.Join(", ", Parameters.Select(p => $"{p.Key}={p.Value}"))})";
}

/// <summary>
/// <c>benchmarks/allocation-budgets.json</c>: the recorded bytes per op of each budgeted benchmark case, and the
/// tolerance above them that <see cref="AllocationBudgetTests"/> accepts.
/// </summary>
public sealed record AllocationBudgetFile
{
    public const int DefaultOperations = 10;

    /// <summary>The environment variable that turns the tests into re-recording the file.</summary>
    public const string RecordVariable = "LOKISHARP_RECORD_BUDGETS";

    private static readonly JsonSerializerOptions Json = new()
    {
        PropertyNamingPolicy = JsonNamingPolicy.CamelCase,
        WriteIndented = true,
        Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping,
    };

    /// <summary>What the file is and how to re-record it (kept in the file for whoever opens it).</summary>
    public string About { get; init; } = "";

    /// <summary>Fraction above a budget that still passes (0.1 = 10%).</summary>
    public double Tolerance { get; init; }

    /// <summary>
    /// Bytes per op that still pass above a <c>process</c>-measured budget on top of the tolerance: other threads of
    /// the test host (the runner's reporting) allocate a little while those are measured.
    /// </summary>
    public long ProcessSlackBytes { get; init; }

    public List<AllocationBudget> Budgets { get; init; } = [];

    /// <summary>The file in the repository this test was built from.</summary>
    public static string PathInRepository
    {
        get
        {
            for (var directory = new DirectoryInfo(AppContext.BaseDirectory); directory is not null; directory = directory.Parent)
            {
                if (File.Exists(Path.Combine(directory.FullName, "LokiSharp.sln")))
                {
                    return Path.Combine(directory.FullName, "benchmarks", "allocation-budgets.json");
                }
            }

            throw new InvalidOperationException($"no LokiSharp.sln above {AppContext.BaseDirectory}");
        }
    }

    /// <summary>Whether <see cref="RecordVariable"/> asks for re-recording.</summary>
    public static bool Recording => Environment.GetEnvironmentVariable(RecordVariable) is "1" or "true";

    /// <summary>The largest bytes per op that passes for <paramref name="budget"/>.</summary>
    public long Limit(AllocationBudget budget) =>
        (long)Math.Ceiling(budget.BytesPerOp * (1 + Tolerance)) + (budget.AllThreads ? ProcessSlackBytes : 0);

    public static AllocationBudgetFile Load() => Load(PathInRepository);

    public static AllocationBudgetFile Load(string path) =>
        JsonSerializer.Deserialize<AllocationBudgetFile>(File.ReadAllText(path), Json)
        ?? throw new InvalidDataException($"{path} is empty");

    public void Save(string path) => File.WriteAllText(path, JsonSerializer.Serialize(this, Json) + "\n");
}
