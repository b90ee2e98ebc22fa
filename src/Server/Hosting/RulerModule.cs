using LokiSharp.Ruler.Evaluation;
using LokiSharp.Ruler.Rules;

namespace LokiSharp.Server.Hosting;

/// <summary>
/// Loki's <c>ruler</c> module: loads every tenant's rule files from the local rule directory at start, evaluates
/// their groups (<see cref="RuleScheduler"/>) and reads the directory again every <c>poll_interval</c>. An invalid
/// file, group or rule is logged once with its file and rule, counted, and skipped; it never stops the ruler.
/// </summary>
internal sealed partial class RulerModule(RuleScheduler scheduler, LocalRuleStore store, LokiSharp.Ruler.Configuration.RulerOptions options,
    LokiSharp.Server.Configuration.LokiConfig config, TimeProvider time, ILogger<RulerModule> logger) : ILokiModule, IAsyncDisposable
{
    private readonly CancellationTokenSource _stopping = new();
    private readonly Lock _reloadLock = new();
    private Task? _loop;

    public string Name => "ruler";

    /// <summary>The groups being evaluated.</summary>
    public RuleScheduler Scheduler => scheduler;

    /// <summary>The rule directory as the rules API reads and writes it.</summary>
    public LocalRuleStore Store => store;

    public Task StartAsync(CancellationToken cancellationToken)
    {
        if (config.Ruler.EnableSharding)
        {
            LogShardingIgnored();
        }

        if (!options.NotifiesAlertmanager)
        {
            LogNoAlertmanager();
        }

        Reload();
        LogStarted(options.RuleDirectory, scheduler.GroupCount, options.EvaluationInterval, options.PollInterval);
        _loop = Task.Run(() => PollAsync(_stopping.Token), CancellationToken.None);
        return Task.CompletedTask;
    }

    public async Task StopAsync(CancellationToken cancellationToken)
    {
        await _stopping.CancelAsync().ConfigureAwait(false);
        if (_loop is not null)
        {
            await _loop.WaitAsync(cancellationToken).ConfigureAwait(false);
        }

        await scheduler.DisposeAsync().ConfigureAwait(false);
    }

    public ValueTask DisposeAsync()
    {
        _stopping.Dispose();
        return ValueTask.CompletedTask;
    }

    /// <summary>Reads the rule directory and applies it (at start, every poll, and after a change through the API).</summary>
    public void Reload()
    {
        lock (_reloadLock)
        {
            IReadOnlyList<RuleProblem> problems;
            try
            {
                problems = scheduler.Sync(RuleDirectory.Load(options.RuleDirectory));
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                // The directory is unreadable right now: the loaded rules keep running until the next poll.
                LogLoadFailed(options.RuleDirectory, e.Message);
                return;
            }

            foreach (var problem in problems)
            {
                LogInvalidRule(problem.File, problem.Group ?? "", problem.Rule ?? "", problem.Line, problem.Message);
            }
        }
    }

    private async Task PollAsync(CancellationToken cancellationToken)
    {
        using var timer = new PeriodicTimer(options.PollInterval, time);
        try
        {
            while (await timer.WaitForNextTickAsync(cancellationToken).ConfigureAwait(false))
            {
                Reload();
            }
        }
        catch (OperationCanceledException)
        {
        }
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "ruler started")]
    private partial void LogStarted(string directory, int groups, TimeSpan evaluationInterval, TimeSpan pollInterval);

    [LoggerMessage(Level = LogLevel.Warning, Message = "invalid rule skipped")]
    private partial void LogInvalidRule(string file, string group, string rule, int line, string err);

    [LoggerMessage(Level = LogLevel.Error, Message = "cannot read the rule directory; the loaded rules keep running")]
    private partial void LogLoadFailed(string directory, string err);

    [LoggerMessage(Level = LogLevel.Information, Message = "ruler.enable_sharding ignored: this ruler evaluates every rule group")]
    private partial void LogShardingIgnored();

    [LoggerMessage(Level = LogLevel.Information, Message = "ruler.alertmanager_url is empty: alerts are evaluated but not sent")]
    private partial void LogNoAlertmanager();
}
