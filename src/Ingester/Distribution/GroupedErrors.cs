using System.Text;

namespace LokiSharp.Ingester.Distribution;

/// <summary>
/// Validation errors of one push, reported as Loki does: identical messages grouped as
/// <c>N errors like: msg</c>, distinct ones joined by <c>; </c>, a single error bare.
/// </summary>
public sealed class GroupedErrors
{
    private readonly List<(string Message, int Count)> _groups = [];

    /// <summary>Whether any error was added.</summary>
    public bool Any => _groups.Count > 0;

    /// <summary>Adds one error.</summary>
    public void Add(string message)
    {
        for (var i = 0; i < _groups.Count; i++)
        {
            if (_groups[i].Message == message)
            {
                _groups[i] = (message, _groups[i].Count + 1);
                return;
            }
        }

        _groups.Add((message, 1));
    }

    /// <summary>Forgets every error added.</summary>
    public void Clear() => _groups.Clear();

    /// <summary>The combined message.</summary>
    public override string ToString()
    {
        var sb = new StringBuilder();
        foreach (var (message, count) in _groups)
        {
            if (sb.Length > 0)
            {
                sb.Append("; ");
            }

            if (_groups.Count > 1 || count > 1)
            {
                sb.Append(count).Append(" errors like: ");
            }

            sb.Append(message);
        }

        return sb.ToString();
    }
}
