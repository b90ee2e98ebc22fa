using System.Text;

namespace LokiSharp.LogQL.Syntax;

/// <summary>Loki's <c>| pattern</c> syntax: literals and <c>&lt;name&gt;</c> captures (<c>&lt;_&gt;</c> unnamed).</summary>
public static class PatternSyntax
{
    /// <summary>One piece of a pattern: literal text, or a capture (<see cref="Name"/> <c>_</c> when unnamed).</summary>
    public readonly record struct Node(bool IsCapture, string Text)
    {
        /// <summary>The capture name (for captures).</summary>
        public string Name => Text;

        /// <summary>Whether this is the unnamed capture <c>&lt;_&gt;</c>.</summary>
        public bool IsUnnamed => IsCapture && Text == "_";
    }

    /// <summary>Splits a pattern into literal and capture nodes; adjacent literal characters are merged.</summary>
    public static List<Node> Parse(string pattern)
    {
        var nodes = new List<Node>();
        var literal = new StringBuilder();
        var i = 0;
        while (i < pattern.Length)
        {
            var end = CaptureEnd(pattern, i);
            if (end > 0)
            {
                if (literal.Length > 0)
                {
                    nodes.Add(new Node(false, literal.ToString()));
                    literal.Clear();
                }

                nodes.Add(new Node(true, pattern[(i + 1)..(end - 1)]));
                i = end;
                continue;
            }

            literal.Append(pattern[i]);
            i++;
        }

        if (literal.Length > 0)
        {
            nodes.Add(new Node(false, literal.ToString()));
        }

        return nodes;
    }

    // A capture is '<' (letter | '_') (letter | digit | '_')* '>'; returns the index after '>' or -1.
    private static int CaptureEnd(string s, int i)
    {
        if (s[i] != '<' || i + 1 >= s.Length || !(char.IsAsciiLetter(s[i + 1]) || s[i + 1] == '_'))
        {
            return -1;
        }

        var j = i + 2;
        while (j < s.Length && (char.IsAsciiLetterOrDigit(s[j]) || s[j] == '_'))
        {
            j++;
        }

        return j < s.Length && s[j] == '>' ? j + 1 : -1;
    }

    /// <summary>Validates a parser pattern; returns Loki's error text or null.</summary>
    public static string? Validate(string pattern)
    {
        var nodes = Parse(pattern);
        var names = new List<string>();
        foreach (var node in nodes)
        {
            if (node.IsCapture && !node.IsUnnamed)
            {
                names.Add(node.Name);
            }
        }

        if (names.Count == 0)
        {
            return "at least one capture is required";
        }

        for (var i = 0; i + 1 < nodes.Count; i++)
        {
            if (nodes[i].IsCapture && nodes[i + 1].IsCapture)
            {
                return "found consecutive capture '<" + nodes[i].Name + "><" + nodes[i + 1].Name + ">': invalid expression";
            }
        }

        var seen = new HashSet<string>(StringComparer.Ordinal);
        foreach (var name in names)
        {
            if (!seen.Add(name))
            {
                return "duplicate capture name (" + name + "): invalid expression";
            }
        }

        return null;
    }
}
