using YamlDotNet.Core;
using YamlDotNet.RepresentationModel;

namespace LokiSharp.Ruler.Rules;

/// <summary>The rules API's request body: one rule group (<c>POST /loki/api/v1/rules/{namespace}</c>).</summary>
public static partial class RuleFileParser
{
    /// <summary>Loki's answer to a body that is not a rule group (<c>ErrBadRuleGroup</c>).</summary>
    public const string BadRuleGroup = "unable to decoded rule group";

    /// <summary>
    /// Parses and validates a single rule group as the rules API receives it: the group, or Loki's error texts (a body
    /// that is not YAML or not a group gives <see cref="BadRuleGroup"/>; validation errors are listed in order).
    /// </summary>
    public static (RuleGroup? Group, IReadOnlyList<string> Errors) ParseGroupBody(string content)
    {
        YamlNode root;
        try
        {
            var stream = new YamlStream();
            stream.Load(new StringReader(content));
            root = stream.Documents.Count == 0 ? new YamlMappingNode() : stream.Documents[0].RootNode;
        }
        catch (YamlException)
        {
            return (null, [BadRuleGroup]);
        }

        if (root is not YamlMappingNode && !IsNull(root))
        {
            return (null, [BadRuleGroup]);
        }

        var problems = new List<RuleProblem>();
        var group = ParseGroup("", 0, IsNull(root) ? new YamlMappingNode() : root, new HashSet<string>(StringComparer.Ordinal), problems);
        return problems.Count > 0 ? (null, [.. problems.Select(static p => p.Message)]) : (group, []);
    }
}
