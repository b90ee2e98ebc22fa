using Google.Protobuf;
using LokiSharp.LogQL.Labels;
using LokiSharp.Querier.Peers.Wire;
using LokiSharp.Storage.ContentIndex;
using LokiSharp.Storage.Reading;
using MatchType = LokiSharp.LogQL.Labels.MatchType;
using WireStream = LokiSharp.Querier.Peers.Wire.Stream;

namespace LokiSharp.Querier.Peers;

/// <summary>Conversions between the read interface's types and the peer protocol's messages, for both ends.</summary>
public static class PeerWire
{
    /// <summary>A selection request.</summary>
    public static SelectRequest Select(string tenant, IReadOnlyList<LabelMatcher> matchers, long from, long through)
    {
        var request = new SelectRequest { Tenant = tenant, From = from, Through = through };
        foreach (var matcher in matchers)
        {
            request.Matchers.Add(new Matcher { Type = (int)matcher.Type, Name = matcher.Name, Value = matcher.Value });
        }

        return request;
    }

    /// <summary>The matchers of a request; an unknown type or a regex that does not compile is an <see cref="ArgumentException"/>.</summary>
    public static IReadOnlyList<LabelMatcher> Matchers(SelectRequest request)
    {
        var matchers = new LabelMatcher[request.Matchers.Count];
        for (var i = 0; i < matchers.Length; i++)
        {
            var wire = request.Matchers[i];
            if (wire.Type is < (int)MatchType.Equal or > (int)MatchType.NotRegex)
            {
                throw new ArgumentException($"unknown matcher type {wire.Type}");
            }

            matchers[i] = new LabelMatcher(wire.Name, (MatchType)wire.Type, wire.Value);
        }

        return matchers;
    }

    /// <summary>A stream on the wire.</summary>
    public static WireStream Stream(LabelSet labels, ulong fingerprint, long bytes = 0)
    {
        var stream = new WireStream { Fingerprint = fingerprint, Bytes = bytes };
        foreach (var pair in labels)
        {
            stream.Labels.Add(new Label { Name = pair.Name, Value = pair.Value });
        }

        return stream;
    }

    /// <summary>A stream's labels from the wire.</summary>
    public static LabelSet Labels(WireStream stream)
    {
        var pairs = new LabelPair[stream.Labels.Count];
        for (var i = 0; i < pairs.Length; i++)
        {
            pairs[i] = new LabelPair(stream.Labels[i].Name, stream.Labels[i].Value);
        }

        return LabelSet.From(pairs);
    }

    /// <summary>
    /// The part of a pre-filter that travels: its case-sensitive single literals. The peer filters with less than the
    /// querier would, never more, so nothing a query needs is dropped (the query's own filters run on what comes back).
    /// </summary>
    public static void AddLiterals(ReadRequest request, LiteralPrefilter? filter)
    {
        if (filter is null)
        {
            return;
        }

        foreach (var literal in filter.Literals)
        {
            request.Literals.Add(ByteString.CopyFrom(literal));
        }
    }

    /// <summary>The read request's pre-filter, or null.</summary>
    public static LiteralPrefilter? Prefilter(ReadRequest request)
    {
        if (request.Literals.Count == 0)
        {
            return null;
        }

        var requirements = new List<LogQL.Literals.LiteralRequirement>(request.Literals.Count);
        foreach (var literal in request.Literals)
        {
            requirements.Add(new LogQL.Literals.LiteralRequirement([literal.ToByteArray()], IgnoreCase: false));
        }

        return new LiteralPrefilter(requirements);
    }

    /// <summary>The entry query a read request asks for.</summary>
    public static EntryQuery Query(ReadRequest request) =>
        new(request.Select.From, request.Select.Through, request.Backward ? Direction.Backward : Direction.Forward, Prefilter(request));
}
