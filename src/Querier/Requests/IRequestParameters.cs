namespace LokiSharp.Querier.Requests;

/// <summary>A request's parameters by name, however the host read them (URL query, form body).</summary>
public interface IRequestParameters
{
    /// <summary>The first value of a parameter, or null when absent.</summary>
    string? Get(string name);
}
