namespace LokiSharp.Server;

/// <summary>Process entry point.</summary>
public static class Program
{
    public static int Main() => 0;
}
