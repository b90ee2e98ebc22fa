using LokiSharp.Storage.Store;

namespace LokiSharp.Storage.Objects;

/// <summary>
/// The rules for object keys, the same for every store so a layout that works on disk works in a bucket: relative
/// <c>/</c>-separated names of printable ASCII (ordinal order is then the same as S3's UTF-8 order), no empty,
/// <c>.</c> or <c>..</c> segment, no backslash, at most 1024 bytes (S3's limit), and no name ending in
/// <c>.tmp</c>, which the file system store reserves for unfinished writes.
/// </summary>
public static class ObjectKey
{
    /// <summary>S3's limit on a key's length in (UTF-8) bytes.</summary>
    public const int MaxLength = 1024;

    /// <summary>Throws <see cref="ArgumentException"/> naming the key and the rule it breaks.</summary>
    public static void Validate(string key)
    {
        ArgumentNullException.ThrowIfNull(key);
        var problem = Check(key, isPrefix: false);
        if (problem is not null)
        {
            throw new ArgumentException($"invalid object key \"{Printable(key)}\": {problem}", nameof(key));
        }
    }

    /// <summary>
    /// Checks a listing prefix: "" (everything), or the start of a valid key; it may end in <c>/</c> or in the middle
    /// of a segment.
    /// </summary>
    public static void ValidatePrefix(string prefix)
    {
        ArgumentNullException.ThrowIfNull(prefix);
        var problem = prefix.Length == 0 ? null : Check(prefix, isPrefix: true);
        if (problem is not null)
        {
            throw new ArgumentException($"invalid object key prefix \"{Printable(prefix)}\": {problem}", nameof(prefix));
        }
    }

    /// <summary>Throws unless <paramref name="prefix"/> is "" or a valid prefix ending in <c>/</c>.</summary>
    public static void CheckDirectoryPrefix(string prefix)
    {
        ValidatePrefix(prefix);
        if (prefix.Length > 0 && prefix[^1] != '/')
        {
            throw new ArgumentException($"invalid object key prefix \"{Printable(prefix)}\": a directory prefix ends in '/'", nameof(prefix));
        }
    }

    private static string? Check(string key, bool isPrefix)
    {
        if (key.Length == 0)
        {
            return "it is empty";
        }

        if (key.Length > MaxLength)
        {
            return $"it is longer than {MaxLength} bytes";
        }

        foreach (var c in key)
        {
            if (c == '\\')
            {
                return "it contains a backslash (the separator is '/')";
            }

            if (c is < '!' or > '~')
            {
                return "only printable ASCII characters without spaces are allowed";
            }
        }

        if (key[0] == '/')
        {
            return "it starts with '/' (keys are relative)";
        }

        var segments = key.Split('/');
        for (var i = 0; i < segments.Length; i++)
        {
            var segment = segments[i];
            var last = i == segments.Length - 1;
            if (segment.Length == 0 && !(last && isPrefix))
            {
                return last ? "it ends with '/'" : "it has an empty segment ('//')";
            }

            // A prefix's last segment may be the start of a longer name ("a/." lists "a/.x").
            if ((segment == "." || segment == "..") && !(last && isPrefix))
            {
                return "'.' and '..' segments are not allowed";
            }
        }

        if (!isPrefix && key.EndsWith(DurableFile.TempSuffix, StringComparison.Ordinal))
        {
            return $"names ending in {DurableFile.TempSuffix} are reserved for unfinished writes";
        }

        return null;
    }

    // Keeps control characters in a key out of log lines and messages.
    private static string Printable(string key)
    {
        var shown = key.Length > 200 ? key[..200] + "..." : key;
        return string.Create(shown.Length, shown, static (span, s) =>
        {
            for (var i = 0; i < s.Length; i++)
            {
                span[i] = char.IsControl(s[i]) ? '?' : s[i];
            }
        });
    }
}
