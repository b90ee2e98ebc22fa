using LokiSharp.Ruler.Rules;

namespace LokiSharp.Ruler.Evaluation;

/// <summary>
/// Runs every tenant's rule groups: one loop per group waiting for the group's slots, at most
/// <see cref="Configuration.RulerOptions.MaxConcurrentEvaluations"/> groups evaluating at once, on the thread pool
/// (never on a push or query thread). <see cref="Sync"/> applies a fresh read of the rule files: new groups start,
/// removed ones stop, changed ones restart keeping the state of their unchanged rules.
/// </summary>
public sealed class RuleScheduler : IAsyncDisposable
{
    private readonly RulerContext _context;
    private readonly SemaphoreSlim _slots;
    private readonly CancellationTokenSource _stopping = new();
    private readonly Lock _lock = new();
    private readonly Dictionary<GroupKey, RunningGroup> _groups = [];
    private readonly Dictionary<string, HashSet<string>> _knownProblems = new(StringComparer.Ordinal);
    private bool _synced;
    private int _disposed;

    /// <summary>Creates a scheduler with no groups.</summary>
    public RuleScheduler(RulerContext context)
    {
        _context = context;
        _slots = new SemaphoreSlim(Math.Max(1, context.Options.MaxConcurrentEvaluations));
    }

    /// <summary>How many groups are loaded.</summary>
    public int GroupCount
    {
        get
        {
            lock (_lock)
            {
                return _groups.Count;
            }
        }
    }

    /// <summary>
    /// Applies the rule files of every tenant (<see cref="RuleDirectory.Load"/>) and returns the problems not reported
    /// by an earlier sync, so that a broken file is logged once, not at every poll.
    /// </summary>
    public IReadOnlyList<RuleProblem> Sync(IReadOnlyDictionary<string, IReadOnlyList<TenantRuleFile>> tenants)
    {
        var wanted = new Dictionary<GroupKey, RuleGroup>();
        var fresh = new List<RuleProblem>();
        lock (_lock)
        {
            foreach (var (tenant, files) in tenants)
            {
                var known = new HashSet<string>(StringComparer.Ordinal);
                _knownProblems.TryGetValue(tenant, out var before);
                foreach (var file in files)
                {
                    foreach (var group in file.Content.Groups)
                    {
                        wanted[new GroupKey(tenant, file.Namespace, group.Name)] = group;
                    }

                    foreach (var problem in file.Content.Problems)
                    {
                        var id = problem.File + "\n" + problem.Group + "\n" + problem.Rule + "\n" + problem.Message;
                        if (known.Add(id) && before?.Contains(id) != true)
                        {
                            fresh.Add(problem);
                            _context.Metrics?.LoadFailures.WithLabels(tenant).Inc();
                        }
                    }
                }

                _knownProblems[tenant] = known;
                _context.Metrics?.LastReloadSuccessful.WithLabels(tenant).Set(known.Count == 0 ? 1 : 0);
            }

            foreach (var tenant in _knownProblems.Keys.Where(t => !tenants.ContainsKey(t)).ToList())
            {
                _knownProblems.Remove(tenant);
                _context.Metrics?.LastReloadSuccessful.RemoveLabelled(tenant);
            }

            foreach (var (key, running) in _groups.Where(g => !wanted.ContainsKey(g.Key)).ToList())
            {
                running.Stop();
                running.Evaluator.RemoveMetrics();
                _groups.Remove(key);
            }

            foreach (var (key, group) in wanted)
            {
                _groups.TryGetValue(key, out var current);
                if (current is not null && SameGroup(current.Evaluator.Definition, group))
                {
                    continue;
                }

                current?.Stop();
                var evaluator = new GroupEvaluator(key, group, _context, current?.Evaluator, restore: !_synced);
                _groups[key] = Start(evaluator);
            }

            _synced = true;
        }

        return fresh;
    }

    /// <summary>Snapshots of <paramref name="tenant"/>'s groups, by namespace then group name.</summary>
    public IReadOnlyList<GroupStatus> Groups(string tenant)
    {
        List<GroupEvaluator> evaluators;
        lock (_lock)
        {
            evaluators = [.. _groups.Values.Select(static g => g.Evaluator).Where(e => e.Key.Tenant == tenant)];
        }

        return [.. evaluators
            .OrderBy(static e => e.Key.Namespace, StringComparer.Ordinal)
            .ThenBy(static e => e.Key.Group, StringComparer.Ordinal)
            .Select(static e => e.Status())];
    }

    /// <summary>Stops every group's loop and waits for running evaluations to end; later calls do nothing.</summary>
    public async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0)
        {
            return;
        }

        List<RunningGroup> running;
        lock (_lock)
        {
            running = [.. _groups.Values];
            _groups.Clear();
        }

        await _stopping.CancelAsync().ConfigureAwait(false);
        foreach (var group in running)
        {
            group.Stop();
        }

        await Task.WhenAll(running.Select(static g => g.Loop)).ConfigureAwait(false);
        _stopping.Dispose();
        _slots.Dispose();
    }

    private RunningGroup Start(GroupEvaluator evaluator)
    {
        var cancellation = CancellationTokenSource.CreateLinkedTokenSource(_stopping.Token);
        var loop = Task.Run(() => RunAsync(evaluator, cancellation.Token), CancellationToken.None);
        return new RunningGroup(evaluator, cancellation, loop);
    }

    private async Task RunAsync(GroupEvaluator evaluator, CancellationToken cancellationToken)
    {
        var time = _context.Time;
        var slot = evaluator.Schedule.FirstSlotAfter(time.GetUtcNow());
        try
        {
            while (true)
            {
                var wait = slot - time.GetUtcNow();
                if (wait > TimeSpan.Zero)
                {
                    await Task.Delay(wait, time, cancellationToken).ConfigureAwait(false);
                }

                await _slots.WaitAsync(cancellationToken).ConfigureAwait(false);
                try
                {
                    evaluator.Evaluate(slot, cancellationToken);
                }
                catch (Exception e) when (e is not OperationCanceledException)
                {
                    // Rule failures are handled inside; this is a bug or an unexpected fault. The group keeps its slots.
                    _context.Warn?.Invoke("rule group evaluation failed: tenant=" + evaluator.Key.Tenant + " group=" + evaluator.Key.Group +
                        " err=" + e.Message);
                }
                finally
                {
                    _slots.Release();
                }

                slot = evaluator.Schedule.Next(slot, time.GetUtcNow(), out var missed);
                evaluator.CountIterations(missed);
            }
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
        }
    }

    private static bool SameGroup(RuleGroup a, RuleGroup b) =>
        a.Name == b.Name && a.Interval == b.Interval && a.QueryOffset == b.QueryOffset && a.Limit == b.Limit &&
        a.Labels.SequenceEqual(b.Labels) && a.Rules.Count == b.Rules.Count &&
        a.Rules.Zip(b.Rules).All(static p => GroupEvaluator.SameRule(p.First, p.Second));

    private sealed record RunningGroup(GroupEvaluator Evaluator, CancellationTokenSource Cancellation, Task Loop)
    {
        public void Stop() => Cancellation.Cancel();
    }
}
