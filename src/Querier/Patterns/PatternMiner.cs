using LokiSharp.LogQL.Evaluation;

namespace LokiSharp.Querier.Patterns;

/// <summary>A mined pattern: its template, the level of the lines it covers and line counts per step.</summary>
/// <param name="Pattern">Tokens joined by spaces, variable parts as <c>&lt;_&gt;</c>.</param>
/// <param name="Level">The lines' detected level (<c>unknown</c> when none).</param>
/// <param name="Samples">(Unix seconds at the start of the step, lines) oldest first.</param>
public sealed record MinedPattern(string Pattern, string Level, IReadOnlyList<(long Seconds, long Count)> Samples);

/// <summary>
/// A compact Drain-style log-pattern miner, as Loki's pattern ingester uses: lines are split on white space,
/// tokens holding a digit are variables from the start, and a line joins the first cluster of the same length and
/// level whose constant tokens agree on at least <see cref="SimilarityThreshold"/> of the line; disagreeing tokens
/// become <c>&lt;_&gt;</c>. Memory is bounded: at most <see cref="MaxClusters"/> clusters (a line that would make
/// more joins no pattern) and at most <see cref="MaxTokens"/> tokens per line; a new cluster's tokens (one line's
/// text, however long its tokens) are reserved in <paramref name="memory"/>.
/// </summary>
public sealed class PatternMiner(long stepNs, QueryMemoryBudget? memory = null)
{
    /// <summary>Share of tokens that must agree for a line to join a cluster (Drain's similarity threshold).</summary>
    public const double SimilarityThreshold = 0.3;

    /// <summary>Clusters kept at most.</summary>
    public const int MaxClusters = 1000;

    /// <summary>Tokens of a line considered at most; longer lines are mined by their start.</summary>
    public const int MaxTokens = 64;

    private const string Variable = "<_>";
    private readonly Dictionary<(int Length, string Level), List<Cluster>> _groups = [];
    private int _clusters;

    /// <summary>Adds one line seen at <paramref name="timestampNs"/>.</summary>
    public void Add(long timestampNs, string line, string level)
    {
        var tokens = Tokenize(line);
        if (tokens.Length == 0)
        {
            return;
        }

        if (!_groups.TryGetValue((tokens.Length, level), out var clusters))
        {
            _groups[(tokens.Length, level)] = clusters = [];
        }

        Cluster? best = null;
        var bestScore = -1.0;
        foreach (var cluster in clusters)
        {
            var score = cluster.Similarity(tokens);
            if (score >= SimilarityThreshold && score > bestScore)
            {
                best = cluster;
                bestScore = score;
            }
        }

        if (best is null)
        {
            if (_clusters >= MaxClusters)
            {
                return;
            }

            if (memory is not null)
            {
                long bytes = QueryMemoryBudget.ObjectOverhead;
                foreach (var token in tokens)
                {
                    bytes += QueryMemoryBudget.ObjectOverhead + (2L * token.Length);
                }

                memory.Reserve(bytes);
            }

            best = new Cluster(tokens);
            clusters.Add(best);
            _clusters++;
        }
        else
        {
            best.Merge(tokens);
        }

        best.Count(timestampNs - (((timestampNs % stepNs) + stepNs) % stepNs));
    }

    /// <summary>The patterns found, most lines first.</summary>
    public List<MinedPattern> Patterns()
    {
        var result = new List<(MinedPattern Pattern, long Total)>();
        foreach (var ((_, level), clusters) in _groups)
        {
            foreach (var cluster in clusters)
            {
                var samples = cluster.Samples.Select(static s => (s.Key / 1_000_000_000L, s.Value)).ToList();
                result.Add((new MinedPattern(string.Join(' ', cluster.Tokens), level, samples), cluster.Samples.Values.Sum()));
            }
        }

        result.Sort(static (a, b) => b.Total != a.Total ? b.Total.CompareTo(a.Total) : string.CompareOrdinal(a.Pattern.Pattern, b.Pattern.Pattern));
        return result.ConvertAll(static r => r.Pattern);
    }

    /// <summary>White-space tokens, each holding a digit replaced by the variable marker.</summary>
    public static string[] Tokenize(string line)
    {
        var parts = line.Split([' ', '\t'], MaxTokens + 1, StringSplitOptions.RemoveEmptyEntries);
        if (parts.Length > MaxTokens)
        {
            Array.Resize(ref parts, MaxTokens);
        }

        for (var i = 0; i < parts.Length; i++)
        {
            if (parts[i].AsSpan().IndexOfAnyInRange('0', '9') >= 0)
            {
                parts[i] = Variable;
            }
        }

        return parts;
    }

    private sealed class Cluster(string[] tokens)
    {
        public string[] Tokens { get; } = tokens;

        public SortedDictionary<long, long> Samples { get; } = [];

        public double Similarity(string[] line)
        {
            var same = 0;
            for (var i = 0; i < Tokens.Length; i++)
            {
                if (Tokens[i] == line[i])
                {
                    same++;
                }
            }

            return (double)same / Tokens.Length;
        }

        public void Merge(string[] line)
        {
            for (var i = 0; i < Tokens.Length; i++)
            {
                if (Tokens[i] != line[i])
                {
                    Tokens[i] = Variable;
                }
            }
        }

        public void Count(long stepStart) => Samples[stepStart] = Samples.GetValueOrDefault(stepStart) + 1;
    }
}
