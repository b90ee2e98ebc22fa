using LokiSharp.LogQL.Ast;
using LokiSharp.LogQL.Labels;

namespace LokiSharp.LogQL.Syntax;

/// <summary>Loki's post-parse validation, in Loki's order of checks.</summary>
internal static class Validator
{
    public const string EmptyCompatibleMatchers =
        "queries require at least one regexp or equality matcher that does not have an empty-compatible value. " +
        "For instance, app=~\".*\" does not meet this requirement, but app=~\".+\" will";

    public static void Validate(Expr expr, LogQLParserOptions options)
    {
        switch (expr)
        {
            case SampleExpr sample:
                ValidateSample(sample, options);
                break;
            case LogSelectorExpr selector:
                ValidateMatchers(selector.Matchers, options);
                break;
        }
    }

    private static void ValidateSample(SampleExpr expr, LogQLParserOptions options)
    {
        switch (expr)
        {
            case InvalidSampleExpr invalid:
                throw new LogQLParseException(invalid.Message);
            case BinaryOpExpr binary:
                ValidateSample(binary.Left, options);
                ValidateSample(binary.Right, options);
                break;
            case VectorAggregationExpr aggregation:
                ValidateSample(aggregation.Inner, options);
                break;
            case LabelReplaceExpr labelReplace:
                ValidateSample(labelReplace.Inner, options);
                break;
            case RangeAggregationExpr range:
                ValidateMatchers(range.Range.Left.Matchers, options);
                break;
        }
    }

    private static void ValidateMatchers(EquatableArray<LabelMatcher> matchers, LogQLParserOptions options)
    {
        if (options.AllowEmptyMatchers)
        {
            return;
        }

        foreach (var matcher in matchers)
        {
            if (!matcher.MatchesEmpty)
            {
                return;
            }
        }

        throw new LogQLParseException(EmptyCompatibleMatchers);
    }
}
