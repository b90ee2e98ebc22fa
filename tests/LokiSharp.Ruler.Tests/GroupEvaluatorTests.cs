using LokiSharp.LogQL.Labels;
using LokiSharp.Ruler.Alerting;
using LokiSharp.Ruler.Configuration;
using LokiSharp.Ruler.Evaluation;
using LokiSharp.Ruler.Rules;
using LokiSharp.Ruler.State;

namespace LokiSharp.Ruler.Tests;

public sealed class GroupEvaluatorTests : IDisposable
{
    private const string ErrorsQuery = "sum(rate({app=\"django\"} |= \"error\"[5m]))";
    private const string AlertQuery = "(" + ErrorsQuery + " > 10)";
    private static readonly DateTimeOffset T0 = new(2026, 1, 1, 0, 0, 0, TimeSpan.Zero);
    private readonly string _dir = Directory.CreateTempSubdirectory("lokisharp-ruler-").FullName;
    private readonly FakeQueryEngine _engine = new();
    private readonly FakeNotifier _notifier = new();
    private readonly FakeSink _sink = new();

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private static RuleGroup Group(string yaml)
    {
        var parsed = RuleFileParser.Parse("rules.yaml", yaml);
        Assert.Empty(parsed.Problems);
        return Assert.Single(parsed.Groups);
    }

    private static readonly RuleGroup Django = Group("""
        groups:
          - name: django
            interval: 1m
            rules:
              - alert: HighErrorRate
                expr: sum(rate({app="django"} |= "error" [5m])) > 10
                for: 2m
                labels: {severity: page}
                annotations: {summary: "{{ $value }} errors/s"}
              - record: django:errors:rate5m
                expr: sum(rate({app="django"} |= "error" [5m]))
                labels: {team: web}
        """);

    private RulerContext Context(RulerOptions? options = null, AlertStateStore? store = null) =>
        new(options ?? new RulerOptions { RuleDirectory = _dir, ExternalUrl = "http://grafana", ExternalLabels = LabelSet.From(("cluster", "eu")) },
            _engine, _notifier, _sink, null, store, TimeProvider.System);

    private void ErrorRate(double value)
    {
        _engine.Vectors[AlertQuery] = value > 10 ? [new RuleSample(LabelSet.Empty, value)] : [];
        _engine.Vectors[ErrorsQuery] = [new RuleSample(LabelSet.Empty, value)];
    }

    private static DateTimeOffset At(int minutes) => T0 + TimeSpan.FromMinutes(minutes);

    [Fact]
    public void An_alert_goes_pending_then_firing_and_is_sent_with_Lokis_generator_url_then_resolved()
    {
        var group = new GroupEvaluator(new GroupKey("fake", "app.yaml", "django"), Django, Context());
        ErrorRate(12);

        group.Evaluate(At(0), default);
        var rule = group.Status().Rules[0];
        Assert.Equal(AlertState.Pending, rule.State);
        Assert.Equal(RuleHealth.Ok, rule.Health);
        Assert.Empty(_notifier.Sent);

        group.Evaluate(At(1), default);
        group.Evaluate(At(2), default);
        Assert.Equal(AlertState.Firing, group.Status().Rules[0].State);
        var (tenant, sent) = Assert.Single(_notifier.Sent);
        Assert.Equal("fake", tenant);
        Assert.Equal(LabelSet.From(("alertname", "HighErrorRate"), ("severity", "page")), sent.Labels);
        Assert.Equal("12 errors/s", sent.Annotations.Get("summary"));
        Assert.Equal(At(2), sent.StartsAt);
        Assert.Equal(At(2) + TimeSpan.FromMinutes(4), sent.EndsAt);
        // Loki links the query's LogQL form, JSON-encoded as Go does (">" as \u003e), then query-escaped.
        Assert.Equal("http://grafana/explore?left=%7B%22queries%22%3A%5B%7B%22expr%22%3A%22%28sum%28rate%28%7Bapp%3D%5C%22django%5C%22%7D+%7C%3D+%5C%22error" +
            "%5C%22%5B5m%5D%29%29+%5Cu003e+10%29%22%2C%22queryType%22%3A%22range%22%7D%5D%7D", sent.GeneratorUrl);

        // resend_delay (1m) has not passed at the next evaluation... it has at the one after.
        group.Evaluate(At(2) + TimeSpan.FromSeconds(30), default);
        Assert.Single(_notifier.Sent);
        group.Evaluate(At(4), default);
        Assert.Equal(2, _notifier.Sent.Count);

        ErrorRate(1);
        group.Evaluate(At(5), default);
        Assert.Equal(3, _notifier.Sent.Count);
        Assert.Equal(At(5), _notifier.Sent[^1].Alert.EndsAt);
        Assert.Equal(AlertState.Inactive, group.Status().Rules[0].State);
    }

    [Fact]
    public void A_recording_rule_records_its_name_labels_and_the_external_labels_and_alerts_record_ALERTS()
    {
        var group = new GroupEvaluator(new GroupKey("fake", "app.yaml", "django"), Django, Context());
        _engine.Vectors[ErrorsQuery] = [new RuleSample(LabelSet.From(("__name__", "x"), ("pod", "p1")), 3.5)];

        group.Evaluate(At(0), default);

        var (tenant, sample) = Assert.Single(_sink.Samples);
        Assert.Equal("fake", tenant);
        Assert.Equal(LabelSet.From(("__name__", "django:errors:rate5m"), ("cluster", "eu"), ("pod", "p1"), ("team", "web")), sample.Labels);
        Assert.Equal(At(0).ToUnixTimeMilliseconds(), sample.TimestampMs);
        Assert.Equal(3.5, sample.Value);

        ErrorRate(12);
        group.Evaluate(At(1), default);
        Assert.Contains(_sink.Samples, s => s.Sample.Labels.Get("__name__") == "ALERTS" && s.Sample.Labels.Get("alertstate") == "pending" &&
            s.Sample.Labels.Get("cluster") == "eu");
        Assert.Contains(_sink.Samples, s => s.Sample.Labels.Get("__name__") == "ALERTS_FOR_STATE" && s.Sample.Value == At(1).ToUnixTimeSeconds());
    }

    [Fact]
    public void A_failing_rule_keeps_its_error_and_the_next_rule_still_runs()
    {
        var group = new GroupEvaluator(new GroupKey("fake", "app.yaml", "django"), Django, Context());
        _engine.Errors[AlertQuery] = "maximum of series (500) reached for a single query";
        _engine.Vectors[ErrorsQuery] = [new RuleSample(LabelSet.Empty, 1)];

        group.Evaluate(At(0), default);

        var status = group.Status();
        Assert.Equal(RuleHealth.Err, status.Rules[0].Health);
        Assert.Equal("maximum of series (500) reached for a single query", status.Rules[0].LastError);
        Assert.Equal(RuleHealth.Ok, status.Rules[1].Health);
        Assert.Equal(At(0), status.LastEvaluation);
        Assert.Single(_sink.Samples);
    }

    [Fact]
    public void Query_offset_moves_the_query_time_back_and_group_labels_reach_the_rules()
    {
        var group = new GroupEvaluator(new GroupKey("t", "ns", "g"), Group("""
            groups:
              - name: g
                query_offset: 30s
                labels: {team: web, env: prod}
                rules:
                  - record: r
                    expr: sum(rate({app="django"} |= "error" [5m]))
                    labels: {env: dev}
            """), Context());
        _engine.Vectors[ErrorsQuery] = [new RuleSample(LabelSet.Empty, 1)];

        group.Evaluate(At(1), default);

        Assert.Equal(("t", ErrorsQuery, At(1) - TimeSpan.FromSeconds(30)), Assert.Single(_engine.Calls));
        var sample = Assert.Single(_sink.Samples).Sample;
        Assert.Equal(LabelSet.From(("__name__", "r"), ("cluster", "eu"), ("env", "dev"), ("team", "web")), sample.Labels);
        Assert.Equal((At(1) - TimeSpan.FromSeconds(30)).ToUnixTimeMilliseconds(), sample.TimestampMs);
        Assert.Equal(TimeSpan.FromMinutes(1), group.Interval);
    }

    [Fact]
    public void A_reloaded_group_keeps_the_state_of_its_unchanged_rules()
    {
        var key = new GroupKey("fake", "app.yaml", "django");
        var first = new GroupEvaluator(key, Django, Context());
        ErrorRate(12);
        first.Evaluate(At(0), default);

        var changed = Django with { Rules = [Django.Rules[0], Django.Rules[1] with { Labels = [new("team", "api")] }] };
        var second = new GroupEvaluator(key, changed, Context(), first);

        Assert.Equal(AlertState.Pending, second.Status().Rules[0].State);
        Assert.Equal(RuleHealth.Unknown, second.Status().Rules[1].Health);
        second.Evaluate(At(2), default);
        Assert.Equal(AlertState.Firing, second.Status().Rules[0].State);
    }

    [Fact]
    public void For_state_is_restored_after_a_restart_shifted_by_the_outage()
    {
        var store = new AlertStateStore(Path.Combine(_dir, "wal"));
        var options = new RulerOptions { RuleDirectory = _dir, ForGracePeriod = TimeSpan.FromSeconds(30), ForOutageTolerance = TimeSpan.FromHours(1) };
        var key = new GroupKey("fake", "app.yaml", "django");
        var group = Django with { Rules = [Django.Rules[0] with { For = LogQL.Text.GoDuration.FromTimeSpan(TimeSpan.FromMinutes(10)) }] };
        ErrorRate(12);
        var before = new GroupEvaluator(key, group, Context(options, store), restore: true);
        before.Evaluate(At(0), default);
        before.Evaluate(At(4), default);

        // Down from minute 4 to minute 7: the alert had 6 of its 10 minutes left, and gets them after the restart.
        var after = new GroupEvaluator(key, group, Context(options, store), restore: true);
        after.Evaluate(At(7), default);
        var alert = Assert.Single(after.Status().Rules[0].Alerts);
        Assert.Equal(At(3), alert.ActiveAt);
        after.Evaluate(At(12), default);
        Assert.Equal(AlertState.Pending, after.Status().Rules[0].State);
        after.Evaluate(At(13), default);
        Assert.Equal(AlertState.Firing, after.Status().Rules[0].State);

        // Once the alert resolves its saved state goes away.
        ErrorRate(1);
        after.Evaluate(At(14), default);
        Assert.Null(store.Load(key));
    }

    [Fact]
    public void Nothing_is_restored_after_an_outage_longer_than_the_tolerance()
    {
        var store = new AlertStateStore(Path.Combine(_dir, "wal"));
        var options = new RulerOptions { RuleDirectory = _dir, ForGracePeriod = TimeSpan.Zero, ForOutageTolerance = TimeSpan.FromMinutes(5) };
        var key = new GroupKey("fake", "app.yaml", "django");
        ErrorRate(12);
        new GroupEvaluator(key, Django, Context(options, store), restore: true).Evaluate(At(0), default);

        var after = new GroupEvaluator(key, Django, Context(options, store), restore: true);
        after.Evaluate(At(30), default);

        Assert.Equal(At(30), Assert.Single(after.Status().Rules[0].Alerts).ActiveAt);
    }
}
