namespace LokiSharp.Querier.Responses;

/// <summary>
/// The warnings of one request (corrupt or unreadable data skipped while reading), for the top-level
/// <c>warnings</c> array of Loki's responses. Each text is kept once, in the order first met; thread-safe, since a
/// metric query reads its streams on several threads.
/// </summary>
public sealed class QueryWarnings
{
    /// <summary>Distinct warnings written at most; the rest are summed up in one last warning.</summary>
    public const int MaxWarnings = 100;

    // Distinct texts remembered to count the ones left out; past this, repeats may be counted again.
    private const int MaxRemembered = 10_000;

    private readonly Lock _lock = new();
    private readonly List<string> _warnings = [];
    private readonly HashSet<string> _seen = new(StringComparer.Ordinal);
    private int _leftOut;

    /// <summary>Warnings received so far, counting those left out of the response.</summary>
    public int Count
    {
        get
        {
            lock (_lock)
            {
                return _warnings.Count + _leftOut;
            }
        }
    }

    /// <summary>Adds a warning unless it is already there.</summary>
    public void Add(string warning)
    {
        lock (_lock)
        {
            AddLocked(warning);
        }
    }

    /// <summary>Adds each warning unless it is already there.</summary>
    public void AddRange(IReadOnlyList<string> warnings)
    {
        if (warnings.Count == 0)
        {
            return;
        }

        lock (_lock)
        {
            foreach (var warning in warnings)
            {
                AddLocked(warning);
            }
        }
    }

    /// <summary>The warnings to write, in the order first met.</summary>
    public IReadOnlyList<string> ToList()
    {
        lock (_lock)
        {
            if (_leftOut == 0)
            {
                return [.. _warnings];
            }

            return [.. _warnings, $"{_leftOut} more warnings left out"];
        }
    }

    private void AddLocked(string warning)
    {
        if (_seen.Contains(warning))
        {
            return;
        }

        if (_seen.Count < MaxRemembered)
        {
            _seen.Add(warning);
        }

        if (_warnings.Count < MaxWarnings)
        {
            _warnings.Add(warning);
        }
        else
        {
            _leftOut++;
        }
    }
}
