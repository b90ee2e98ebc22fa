using LokiSharp.Ruler.Configuration;
using LokiSharp.Ruler.Evaluation;
using LokiSharp.Ruler.Rules;

namespace LokiSharp.Ruler.Tests;

public sealed class RuleSchedulerTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("lokisharp-scheduler-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private void Write(string tenant, string ns, string yaml)
    {
        Directory.CreateDirectory(Path.Combine(_dir, tenant));
        File.WriteAllText(Path.Combine(_dir, tenant, ns), yaml);
    }

    private static string Group(string name, string record) => $$"""
          - name: {{name}}
            rules:
              - record: {{record}}
                expr: sum(rate({app="x"}[5m]))
        """;

    [Fact]
    public async Task Sync_starts_new_groups_restarts_changed_ones_stops_removed_ones_and_reports_problems_once()
    {
        // A long interval: the loops wait for their first slot, so the test sees only what Sync does.
        var context = new RulerContext(new RulerOptions { RuleDirectory = _dir, EvaluationInterval = TimeSpan.FromHours(1) }, new FakeQueryEngine(),
            null, null, null, null, TimeProvider.System);
        await using var scheduler = new RuleScheduler(context);
        Write("a", "one.yaml", "groups:\n" + Group("g1", "r1") + "\n" + Group("g2", "r2"));
        Write("b", "two.yaml", "groups:\n" + Group("g3", "r3"));
        Write("b", "bad.yaml", "groups:\n  - name: broken\n    rules:\n      - record: r\n        expr: '{app=\"x\"}'\n");

        var problems = scheduler.Sync(RuleDirectory.Load(_dir));

        // The invalid rule is skipped; its group stays, empty.
        Assert.Equal(4, scheduler.GroupCount);
        var problem = Assert.Single(problems);
        Assert.Equal(Path.Combine(_dir, "b", "bad.yaml"), problem.File);
        Assert.Equal("could not parse expression for record 'r' in group 'broken': only sample expression supported", problem.Message);
        Assert.Equal(["g1", "g2"], scheduler.Groups("a").Select(g => g.Key.Group));
        var g2 = scheduler.Groups("a")[1];

        Write("a", "one.yaml", "groups:\n" + Group("g1", "r1_renamed") + "\n" + Group("g2", "r2"));
        File.Delete(Path.Combine(_dir, "b", "two.yaml"));
        Assert.Empty(scheduler.Sync(RuleDirectory.Load(_dir)));

        Assert.Equal(3, scheduler.GroupCount);
        Assert.Equal(["broken"], scheduler.Groups("b").Select(g => g.Key.Group));
        Assert.Equal("r1_renamed", scheduler.Groups("a")[0].Rules[0].Definition.Name);
        Assert.Same(g2.Definition, scheduler.Groups("a")[1].Definition);

        // Stopping twice (the module, then the container) is harmless.
        await scheduler.DisposeAsync();
        await scheduler.DisposeAsync();
    }
}
