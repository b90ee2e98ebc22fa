namespace LokiSharp.Ingester.Push;

/// <summary>What a push wrote and what it refused.</summary>
/// <param name="StatusCode">204 when everything was accepted, else Loki's 400 or 429.</param>
/// <param name="Message">The error text for a non-204 answer.</param>
public readonly record struct PushOutcome(int StatusCode, string Message);
