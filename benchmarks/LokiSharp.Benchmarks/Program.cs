using BenchmarkDotNet.Running;
using LokiSharp.Benchmarks.Storage;

if (args.Length > 0 && args[0] == "compression-study")
{
    CompressionStudy.Run(args[1..]);
    return;
}

BenchmarkSwitcher.FromAssembly(typeof(Program).Assembly).Run(args);
