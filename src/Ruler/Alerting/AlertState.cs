namespace LokiSharp.Ruler.Alerting;

/// <summary>Prometheus' alert states, ordered as it compares them (a rule's state is its alerts' highest).</summary>
public enum AlertState
{
    /// <summary>The rule has not been evaluated yet.</summary>
    Unknown,

    /// <summary>Neither pending nor firing (a resolved alert kept to resend its resolution).</summary>
    Inactive,

    /// <summary>Active for less than the rule's <c>for</c>.</summary>
    Pending,

    /// <summary>Active for at least the rule's <c>for</c> (or kept firing by <c>keep_firing_for</c>).</summary>
    Firing,
}
