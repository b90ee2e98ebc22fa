using Google.Protobuf;
using LokiSharp.Ruler.RemoteWrite.Protos;
using Snappier;

namespace LokiSharp.Ruler.RemoteWrite;

/// <summary>
/// Remote write 1.0's body: a <c>prometheus.WriteRequest</c> with one time series per label set (labels sorted by
/// name, samples in time order), compressed with snappy's block format.
/// </summary>
internal static class WriteRequestEncoder
{
    public static byte[] Encode(IReadOnlyList<RecordedSample> samples)
    {
        var request = new WriteRequest();
        var series = new Dictionary<LogQL.Labels.LabelSet, TimeSeries>();
        foreach (var sample in samples)
        {
            if (!series.TryGetValue(sample.Labels, out var timeSeries))
            {
                timeSeries = new TimeSeries();
                // LabelSet keeps its pairs sorted by name (ordinal), which is remote write's order.
                foreach (var label in sample.Labels)
                {
                    timeSeries.Labels.Add(new Label { Name = label.Name, Value = label.Value });
                }

                series.Add(sample.Labels, timeSeries);
                request.Timeseries.Add(timeSeries);
            }

            timeSeries.Samples.Add(new Sample { Value = sample.Value, Timestamp = sample.TimestampMs });
        }

        foreach (var timeSeries in request.Timeseries)
        {
            if (timeSeries.Samples.Count > 1)
            {
                var ordered = timeSeries.Samples.OrderBy(s => s.Timestamp).ToList();
                timeSeries.Samples.Clear();
                timeSeries.Samples.Add(ordered);
            }
        }

        return Snappy.CompressToArray(request.ToByteArray());
    }
}
