using System.Globalization;
using System.Text.RegularExpressions;
using LokiSharp.LogQL.Text;
using YamlDotNet.Core;
using YamlDotNet.RepresentationModel;

namespace LokiSharp.Ruler.Rules;

/// <summary>
/// Reads a Prometheus rule-group file as Loki's ruler does (<c>pkg/ruler/grouploader.go</c>: yaml.v3 with known
/// fields only, then <c>ValidateGroups</c>), except that a problem skips only what it is in: a YAML error or a bad
/// top level skips the file, a bad group the group, a bad rule the rule. Loki instead rejects the whole file (and
/// the tenant's rule update); skipping less keeps the other rules running, and every skip is reported.
/// </summary>
public static partial class RuleFileParser
{
    private static readonly string[] GroupFields = ["name", "interval", "query_offset", "limit", "rules", "labels"];
    private static readonly string[] RuleFields = ["record", "alert", "expr", "for", "keep_firing_for", "labels", "annotations"];

    /// <summary>Parses and validates <paramref name="content"/>; <paramref name="file"/> names it in problems.</summary>
    public static RuleGroupFile Parse(string file, string content)
    {
        var problems = new List<RuleProblem>();
        var groups = new List<RuleGroup>();
        YamlNode? root;
        try
        {
            var stream = new YamlStream();
            stream.Load(new StringReader(content));
            root = stream.Documents.Count == 0 ? null : stream.Documents[0].RootNode;
        }
        catch (YamlException e)
        {
            problems.Add(new RuleProblem(file, null, null, (int)e.Start.Line, "yaml: line " +
                e.Start.Line.ToString(CultureInfo.InvariantCulture) + ": " + YamlMessage(e)));
            return new RuleGroupFile(file, groups, problems);
        }

        if (root is null)
        {
            // Loki's decoder reports an empty file as io.EOF (Prometheus' own loader accepts it).
            problems.Add(new RuleProblem(file, null, null, 0, "EOF"));
            return new RuleGroupFile(file, groups, problems);
        }

        if (IsNull(root))
        {
            return new RuleGroupFile(file, groups, problems);
        }

        if (root is not YamlMappingNode top)
        {
            problems.Add(FileProblem(file, root, CannotUnmarshal(root, "rulefmt.RuleGroups")));
            return new RuleGroupFile(file, groups, problems);
        }

        YamlNode? groupsNode = null;
        foreach (var (key, value) in top.Children)
        {
            var name = KeyText(key);
            if (name == "groups")
            {
                groupsNode = value;
            }
            else
            {
                problems.Add(FileProblem(file, key, "field " + name + " not found in type rulefmt.RuleGroups"));
                return new RuleGroupFile(file, groups, problems);
            }
        }

        if (groupsNode is null || IsNull(groupsNode))
        {
            return new RuleGroupFile(file, groups, problems);
        }

        if (groupsNode is not YamlSequenceNode sequence)
        {
            problems.Add(FileProblem(file, groupsNode, CannotUnmarshal(groupsNode, "[]rulefmt.RuleGroup")));
            return new RuleGroupFile(file, groups, problems);
        }

        var names = new HashSet<string>(StringComparer.Ordinal);
        for (var i = 0; i < sequence.Children.Count; i++)
        {
            var group = ParseGroup(file, i, sequence.Children[i], names, problems);
            if (group is not null)
            {
                groups.Add(group);
            }
        }

        return new RuleGroupFile(file, groups, problems);
    }

    private static RuleGroup? ParseGroup(string file, int index, YamlNode node, HashSet<string> names, List<RuleProblem> problems)
    {
        var line = Line(node);
        var fields = new Dictionary<string, YamlNode>(StringComparer.Ordinal);
        if (node is YamlMappingNode mapping)
        {
            foreach (var (key, value) in mapping.Children)
            {
                var field = KeyText(key);
                if (Array.IndexOf(GroupFields, field) < 0)
                {
                    problems.Add(GroupProblem(file, null, key, UnmarshalErrors(key, "field " + field + " not found in type rulefmt.RuleGroup")));
                    return null;
                }

                fields[field] = value;
            }
        }
        else if (!IsNull(node))
        {
            problems.Add(GroupProblem(file, null, node, UnmarshalErrors(node, CannotUnmarshal(node, "rulefmt.RuleGroup"))));
            return null;
        }

        string name;
        GoDuration? interval, queryOffset;
        int limit;
        List<KeyValuePair<string, string>> labels;
        try
        {
            name = ScalarField(fields, "name") ?? string.Empty;
            interval = DurationField(fields, "interval");
            queryOffset = DurationField(fields, "query_offset");
            limit = IntField(fields, "limit");
            labels = MapField(fields, "labels");
        }
        catch (FieldException e)
        {
            problems.Add(GroupProblem(file, null, e.Node, e.Message));
            return null;
        }

        // Loki's ValidateGroups: an empty name, then a repeated one.
        if (name.Length == 0)
        {
            problems.Add(new RuleProblem(file, name, null, line, RuleValidator.EmptyGroupName(index)));
            return null;
        }

        if (!names.Add(name))
        {
            problems.Add(new RuleProblem(file, name, null, line, RuleValidator.RepeatedGroupName(name)));
            return null;
        }

        var rules = new List<RuleDefinition>();
        if (fields.TryGetValue("rules", out var rulesNode) && !IsNull(rulesNode))
        {
            if (rulesNode is not YamlSequenceNode ruleNodes)
            {
                problems.Add(GroupProblem(file, name, rulesNode, UnmarshalErrors(rulesNode, CannotUnmarshal(rulesNode, "[]rulefmt.Rule"))));
                return null;
            }

            foreach (var ruleNode in ruleNodes.Children)
            {
                var rule = ParseRule(file, name, ruleNode, problems);
                if (rule is not null)
                {
                    rules.Add(rule);
                }
            }
        }

        return new RuleGroup(name, interval, queryOffset, limit, labels, rules);
    }

    private static RuleDefinition? ParseRule(string file, string group, YamlNode node, List<RuleProblem> problems)
    {
        var fields = new Dictionary<string, YamlNode>(StringComparer.Ordinal);
        if (node is YamlMappingNode mapping)
        {
            foreach (var (key, value) in mapping.Children)
            {
                var field = KeyText(key);
                if (Array.IndexOf(RuleFields, field) < 0)
                {
                    problems.Add(new RuleProblem(file, group, RuleName(fields), Line(key),
                        UnmarshalErrors(key, "field " + field + " not found in type rulefmt.Rule")));
                    return null;
                }

                fields[field] = value;
            }
        }
        else if (!IsNull(node))
        {
            problems.Add(new RuleProblem(file, group, null, Line(node), UnmarshalErrors(node, CannotUnmarshal(node, "rulefmt.Rule"))));
            return null;
        }

        RawRule raw;
        try
        {
            raw = new RawRule(
                ScalarField(fields, "record") ?? string.Empty,
                ScalarField(fields, "alert") ?? string.Empty,
                ScalarField(fields, "expr") ?? string.Empty,
                DurationField(fields, "for") ?? GoDuration.Zero,
                DurationField(fields, "keep_firing_for") ?? GoDuration.Zero,
                MapField(fields, "labels"),
                MapField(fields, "annotations"));
        }
        catch (FieldException e)
        {
            problems.Add(new RuleProblem(file, group, RuleName(fields), Line(e.Node), e.Message));
            return null;
        }

        var (rule, error) = RuleValidator.Validate(raw, group);
        if (error is not null)
        {
            problems.Add(new RuleProblem(file, group, raw.Alert.Length > 0 ? raw.Alert : raw.Record, Line(node), error));
        }

        return rule;
    }

    private static string? RuleName(Dictionary<string, YamlNode> fields) =>
        (fields.GetValueOrDefault("alert") ?? fields.GetValueOrDefault("record")) is YamlScalarNode s ? s.Value : null;

    private static RuleProblem FileProblem(string file, YamlNode node, string message) =>
        new(file, null, null, Line(node), UnmarshalErrors(node, message));

    private static RuleProblem GroupProblem(string file, string? group, YamlNode node, string message) =>
        new(file, group, null, Line(node), message);

    // yaml.v3 collects type and unknown-field errors under one header.
    private static string UnmarshalErrors(YamlNode node, string message) =>
        "yaml: unmarshal errors:\n  line " + Line(node).ToString(CultureInfo.InvariantCulture) + ": " + message;

    private static string? ScalarField(Dictionary<string, YamlNode> fields, string name)
    {
        if (!fields.TryGetValue(name, out var node) || IsNull(node))
        {
            return null;
        }

        // yaml.v3 decodes any scalar (number, bool) into a string field as its text.
        return node is YamlScalarNode scalar
            ? scalar.Value ?? string.Empty
            : throw new FieldException(node, UnmarshalErrors(node, CannotUnmarshal(node, "string")));
    }

    private static GoDuration? DurationField(Dictionary<string, YamlNode> fields, string name)
    {
        var text = ScalarField(fields, name);
        if (text is null)
        {
            return null;
        }

        // model.Duration's UnmarshalYAML returns model.ParseDuration's error as is.
        return GoDuration.TryParsePrometheus(text, out var error) ?? throw new FieldException(fields[name], error!);
    }

    private static int IntField(Dictionary<string, YamlNode> fields, string name)
    {
        if (!fields.TryGetValue(name, out var node) || IsNull(node))
        {
            return 0;
        }

        if (node is YamlScalarNode { Style: not (ScalarStyle.SingleQuoted or ScalarStyle.DoubleQuoted) } scalar &&
            int.TryParse(scalar.Value?.Replace("_", string.Empty, StringComparison.Ordinal), NumberStyles.AllowLeadingSign,
                CultureInfo.InvariantCulture, out var value))
        {
            return value;
        }

        throw new FieldException(node, UnmarshalErrors(node, CannotUnmarshal(node, "int")));
    }

    private static List<KeyValuePair<string, string>> MapField(Dictionary<string, YamlNode> fields, string name)
    {
        var pairs = new List<KeyValuePair<string, string>>();
        if (!fields.TryGetValue(name, out var node) || IsNull(node))
        {
            return pairs;
        }

        if (node is not YamlMappingNode mapping)
        {
            throw new FieldException(node, UnmarshalErrors(node, CannotUnmarshal(node, "map[string]string")));
        }

        foreach (var (key, value) in mapping.Children)
        {
            if (value is not YamlScalarNode scalar)
            {
                throw new FieldException(value, UnmarshalErrors(value, CannotUnmarshal(value, "string")));
            }

            pairs.Add(new(KeyText(key), IsNull(scalar) ? string.Empty : scalar.Value ?? string.Empty));
        }

        return pairs;
    }

    private static string KeyText(YamlNode key) => key is YamlScalarNode s ? s.Value ?? string.Empty : key.ToString();

    private static int Line(YamlNode node) => (int)node.Start.Line;

    private static bool IsNull(YamlNode node) =>
        node is YamlScalarNode { Style: ScalarStyle.Plain or ScalarStyle.Any, Value: null or "" or "~" or "null" or "Null" or "NULL" };

    // yaml.v3's text: "cannot unmarshal !!seq into string", "cannot unmarshal !!str `abc` into int".
    private static string CannotUnmarshal(YamlNode node, string type)
    {
        var tag = Tag(node);
        var value = node is YamlScalarNode s ? " `" + Truncate(s.Value ?? string.Empty) + "`" : string.Empty;
        return "cannot unmarshal " + tag + value + " into " + type;
    }

    private static string Truncate(string value) => value.Length > 10 ? value[..7] + "..." : value;

    private static string Tag(YamlNode node)
    {
        if (node is YamlMappingNode)
        {
            return "!!map";
        }

        if (node is not YamlScalarNode scalar)
        {
            return "!!seq";
        }

        if (scalar.Style is ScalarStyle.SingleQuoted or ScalarStyle.DoubleQuoted or ScalarStyle.Literal or ScalarStyle.Folded)
        {
            return "!!str";
        }

        return scalar.Value switch
        {
            null or "" or "~" or "null" or "Null" or "NULL" => "!!null",
            "true" or "True" or "TRUE" or "false" or "False" or "FALSE" => "!!bool",
            var v when IntPattern().IsMatch(v) => "!!int",
            var v when FloatPattern().IsMatch(v) => "!!float",
            _ => "!!str",
        };
    }

    // YamlDotNet prefixes its messages with the location, which the "line N:" prefix already gives.
    private static string YamlMessage(YamlException e)
    {
        var message = e.Message;
        var dash = message.IndexOf("): ", StringComparison.Ordinal);
        return message.StartsWith('(') && dash > 0 ? message[(dash + 3)..] : message;
    }

    [GeneratedRegex("^[-+]?(0|[1-9][0-9_]*|0x[0-9a-fA-F_]+|0o?[0-7_]+|0b[01_]+)$")]
    private static partial Regex IntPattern();

    [GeneratedRegex(@"^[-+]?(\.[0-9]+|[0-9][0-9_]*(\.[0-9_]*)?)([eE][-+]?[0-9]+)?$|^[-+]?\.(inf|Inf|INF)$|^\.(nan|NaN|NAN)$")]
    private static partial Regex FloatPattern();

    private sealed class FieldException(YamlNode node, string message) : Exception(message)
    {
        public YamlNode Node { get; } = node;
    }
}
