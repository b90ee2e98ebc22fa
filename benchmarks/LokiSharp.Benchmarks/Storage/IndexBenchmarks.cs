using BenchmarkDotNet.Attributes;
using LokiSharp.LogQL.Labels;
using LokiSharp.Storage.Index;
using LokiSharp.Storage.Reading;
using MatchType = LokiSharp.LogQL.Labels.MatchType;

namespace LokiSharp.Benchmarks.Storage;

/// <summary>Label index matching latency at 10k and 100k series (namespace/app/pod/container labels).</summary>
public class IndexBenchmarks
{
    private readonly LabelIndex _index = new();
    private readonly List<SelectedStream> _output = [];
    private readonly HashSet<string> _values = [];
    private readonly LabelMatcher[] _equal = [new("namespace", MatchType.Equal, "ns-7")];
    private readonly LabelMatcher[] _equalAndRegex = [new("namespace", MatchType.Equal, "ns-7"), new("app", MatchType.Regex, "app-1.*")];
    private readonly LabelMatcher[] _negatedAndRegex = [new("container", MatchType.NotEqual, "sidecar"), new("pod", MatchType.Regex, "pod-12.*")];
    private readonly LabelMatcher[] _containsRegex = [new("pod", MatchType.Regex, ".*-12.*")];
    private readonly LabelMatcher[] _notContainsRegex = [new("namespace", MatchType.Equal, "ns-7"), new("pod", MatchType.NotRegex, ".*-12.*")];
    private readonly LabelMatcher[] _narrowedRegex = [new("pod", MatchType.Regex, "p.d-12(3|4)5.*")];
    private readonly LabelMatcher[] _generalRegex = [new("pod", MatchType.Regex, "p.d-(12|34)5")];

    /// <summary>Series in the index.</summary>
    [Params(10_000, 100_000)]
    public int Series { get; set; }

    /// <summary>Fills the index.</summary>
    [GlobalSetup]
    public void Setup()
    {
        for (var i = 0; i < Series; i++)
        {
            var labels = LabelSet.From(
                ("namespace", "ns-" + (i % 50)),
                ("app", "app-" + (i % 500)),
                ("pod", "pod-" + i),
                ("container", i % 3 == 0 ? "sidecar" : "main"));
            _index.Add(labels, new ChunkRef(1, i, 1000, 0, 1000, 100, 10_000));
        }
    }

    /// <summary><c>{namespace="ns-7"}</c>.</summary>
    [Benchmark]
    public int Equal() => Select(_equal);

    /// <summary><c>{namespace="ns-7", app=~"app-1.*"}</c>.</summary>
    [Benchmark]
    public int EqualAndRegex() => Select(_equalAndRegex);

    /// <summary><c>{container!="sidecar", pod=~"pod-12.*"}</c>: a regex over every pod value.</summary>
    [Benchmark]
    public int NegatedAndRegex() => Select(_negatedAndRegex);

    /// <summary><c>{pod=~".*-12.*"}</c>: a substring test over every pod value.</summary>
    [Benchmark]
    public int ContainsRegex() => Select(_containsRegex);

    /// <summary><c>{namespace="ns-7", pod!~".*-12.*"}</c>: every pod value but the substring hits.</summary>
    [Benchmark]
    public int NotContainsRegex() => Select(_notContainsRegex);

    /// <summary><c>{pod=~"p.d-(12|34)5"}</c>: no literal prefix, the regex runs on every pod value.</summary>
    [Benchmark]
    public int GeneralRegex() => Select(_generalRegex);

    /// <summary><c>{pod=~"p.d-12(3|4)5.*"}</c>: no prefix, but every match contains <c>d-12</c>.</summary>
    [Benchmark]
    public int NarrowedRegex() => Select(_narrowedRegex);

    /// <summary>Values of <c>app</c> under <c>{namespace="ns-7"}</c>.</summary>
    [Benchmark]
    public int LabelValuesUnderMatcher()
    {
        _values.Clear();
        _index.LabelValues("app", _equal, 0, 2000, _values);
        return _values.Count;
    }

    private int Select(LabelMatcher[] matchers)
    {
        _output.Clear();
        _index.Select(matchers, 0, 2000, _output);
        return _output.Count;
    }
}
