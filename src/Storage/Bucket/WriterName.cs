namespace LokiSharp.Storage.Bucket;

/// <summary>
/// A writer's identity in bucket keys: the ingester's stable name (Loki's <c>ingester.lifecycler.id</c>, by
/// default the host name, i.e. the StatefulSet pod name). It must be one safe key segment on every store, so it
/// is 1 to 63 characters of <c>[a-z0-9._-]</c> starting and ending with a letter or digit; <c>compactor</c> is
/// reserved. A bad name is refused, never rewritten: two hosts must not map to one writer.
/// </summary>
public static class WriterName
{
    /// <summary>The writer name of the compactor's own objects (tombstone segments, rewritten packs).</summary>
    public const string Compactor = "compactor";

    /// <summary>The longest name (a DNS label).</summary>
    public const int MaxLength = 63;

    /// <summary>Why <paramref name="name"/> is not a valid writer name, or null when it is.</summary>
    /// <param name="name">The candidate.</param>
    /// <param name="allowReserved">Whether <see cref="Compactor"/> is accepted (the compactor's own writer).</param>
    public static string? Problem(string? name, bool allowReserved = false)
    {
        if (string.IsNullOrEmpty(name))
        {
            return "it is empty";
        }

        if (name.Length > MaxLength)
        {
            return $"it is longer than {MaxLength} characters";
        }

        foreach (var c in name)
        {
            if (!(char.IsAsciiLetterLower(c) || char.IsAsciiDigit(c) || c is '.' or '_' or '-'))
            {
                return "only lower-case letters, digits, '.', '_' and '-' are allowed";
            }
        }

        if (!char.IsAsciiLetterOrDigit(name[0]) || !char.IsAsciiLetterOrDigit(name[^1]))
        {
            return "it must start and end with a letter or digit";
        }

        return !allowReserved && name == Compactor ? $"'{Compactor}' is reserved for the compactor" : null;
    }

    /// <summary>Throws <see cref="ArgumentException"/> naming the rule <paramref name="name"/> breaks.</summary>
    public static void Validate(string? name, bool allowReserved = false)
    {
        if (Problem(name, allowReserved) is { } problem)
        {
            throw new ArgumentException($"invalid writer name \"{name}\": {problem}", nameof(name));
        }
    }
}
