using Google.Protobuf;
using LokiSharp.LogQL.Labels;
using LokiSharp.Ruler.RemoteWrite;
using LokiSharp.Ruler.RemoteWrite.Protos;

namespace LokiSharp.Ruler.Tests.RemoteWrite;

public sealed class WriteRequestEncoderTests
{
    [Fact]
    public void Samples_become_one_series_per_label_set_with_sorted_labels_and_samples_in_time_order()
    {
        var errors = LabelSet.From(("job", "django"), ("__name__", "app:errors:rate5m"), ("cluster", "eu-1"));
        var lines = LabelSet.From(("__name__", "app:lines:rate5m"));
        var body = WriteRequestEncoder.Encode(
        [
            new RecordedSample(errors, 2_000, 1.5),
            new RecordedSample(lines, 1_000, 7),
            new RecordedSample(errors, 1_000, 0.25),
        ]);

        var request = RemoteWriteTestData.Decode(body);
        Assert.Equal(2, request.Timeseries.Count);
        var first = request.Timeseries[0];
        Assert.Equal(["__name__=app:errors:rate5m", "cluster=eu-1", "job=django"], first.Labels.Select(l => $"{l.Name}={l.Value}"));
        Assert.Equal([(1_000L, 0.25), (2_000L, 1.5)], first.Samples.Select(s => (s.Timestamp, s.Value)));
        Assert.Equal([(1_000L, 7.0)], request.Timeseries[1].Samples.Select(s => (s.Timestamp, s.Value)));
    }

    [Fact]
    public void The_wire_bytes_use_remote_writes_field_numbers()
    {
        var body = WriteRequestEncoder.Encode([new RecordedSample(LabelSet.From(("a", "b")), 5, 1)]);
        var raw = Snappier.Snappy.DecompressToArray(body);
        // WriteRequest.timeseries = 1 (length-delimited); TimeSeries.labels = 1, samples = 2; Label name = 1, value = 2;
        // Sample value = 1 (double), timestamp = 2 (varint).
        byte[] expected =
        [
            0x0A, 0x15,
            0x0A, 0x06, 0x0A, 0x01, (byte)'a', 0x12, 0x01, (byte)'b',
            0x12, 0x0B, 0x09, 0, 0, 0, 0, 0, 0, 0xF0, 0x3F, 0x10, 0x05,
        ];
        Assert.Equal(expected, raw);
        Assert.Equal(raw, new WriteRequest
        {
            Timeseries = { new TimeSeries { Labels = { new Label { Name = "a", Value = "b" } }, Samples = { new Sample { Value = 1, Timestamp = 5 } } } },
        }.ToByteArray());
    }
}
