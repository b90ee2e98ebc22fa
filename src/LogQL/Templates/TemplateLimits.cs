using System.Globalization;

namespace LokiSharp.LogQL.Templates;

/// <summary>
/// Bounds on what one template execution may allocate, so that a query cannot take the process's memory (Go's
/// text/template has none beyond fmt's width and precision limits). Every value a template computes and its
/// output are at most <see cref="OutputLimit"/> characters, and the values it computes add up to at most
/// <see cref="WorkFactor"/> times that (which also bounds loops); going over fails the line with
/// <c>TemplateFormatErr</c>.
/// </summary>
public static class TemplateLimits
{
    /// <summary>The output limit for a line shorter than this: 1 Mi characters, four times Loki's default <c>max_line_size</c>.</summary>
    public const int MinOutputLimit = 1 << 20;

    /// <summary>How many times the output limit the values one execution computes may add up to.</summary>
    public const int WorkFactor = 8;

    /// <summary>
    /// The output limit for a line of <paramref name="lineLength"/> bytes: at least <see cref="MinOutputLimit"/>, and
    /// never less than the line, so a template can always echo its line (and chained stages cannot grow a line).
    /// </summary>
    public static int OutputLimit(int lineLength) => Math.Max(MinOutputLimit, lineLength);

    /// <summary>Throws when a result of <paramref name="length"/> characters would pass <paramref name="limit"/>.</summary>
    /// <exception cref="TemplateFunctionException">It would.</exception>
    internal static void Ensure(long length, int limit)
    {
        if (length > limit)
        {
            throw TooLarge(limit);
        }
    }

    internal static TemplateFunctionException TooLarge(int limit) =>
        new("output too large: the template output limit is " + limit.ToString(CultureInfo.InvariantCulture) + " characters");
}
