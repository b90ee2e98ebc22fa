namespace LokiSharp.Ruler.Evaluation;

/// <summary>A rule's health after its last evaluation, as the rules API names it.</summary>
public enum RuleHealth
{
    /// <summary>Not evaluated yet (<c>unknown</c>).</summary>
    Unknown,

    /// <summary>The last evaluation succeeded (<c>ok</c>).</summary>
    Ok,

    /// <summary>The last evaluation failed (<c>err</c>).</summary>
    Err,
}
