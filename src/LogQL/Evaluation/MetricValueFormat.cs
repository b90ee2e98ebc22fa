using System.Globalization;
using LokiSharp.LogQL.Text;

namespace LokiSharp.LogQL.Evaluation;

/// <summary>How Loki prints metric values and timestamps in query responses.</summary>
public static class MetricValueFormat
{
    /// <summary>
    /// A sample value as Loki writes it inside the JSON string: Go's <c>strconv.FormatFloat(v, 'f', -1, 64)</c>,
    /// so never an exponent, and <c>NaN</c>, <c>+Inf</c>, <c>-Inf</c>.
    /// </summary>
    public static string FormatValue(double value) => GoFloat.FormatShortestFixed(value);

    /// <summary>
    /// A timestamp in Unix milliseconds as the JSON number of seconds Loki writes (<c>1700000000.123</c>,
    /// <c>1700000000.1</c>, <c>1700000000</c>): the millisecond digits with trailing zeros trimmed.
    /// </summary>
    public static string FormatTimestamp(long timestampMs)
    {
        var seconds = Math.DivRem(timestampMs, 1000, out var millis);
        var negative = timestampMs < 0;
        if (millis == 0)
        {
            return seconds.ToString(CultureInfo.InvariantCulture);
        }

        millis = Math.Abs(millis);
        var fraction = millis.ToString("000", CultureInfo.InvariantCulture).TrimEnd('0');
        var whole = Math.Abs(seconds).ToString(CultureInfo.InvariantCulture);
        return (negative ? "-" : string.Empty) + whole + "." + fraction;
    }
}
