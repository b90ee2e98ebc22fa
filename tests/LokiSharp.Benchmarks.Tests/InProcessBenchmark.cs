using System.Globalization;
using System.Linq.Expressions;
using System.Reflection;
using BenchmarkDotNet.Attributes;

namespace LokiSharp.Benchmarks.Tests;

/// <summary>
/// One benchmark case run in this process the way BenchmarkDotNet runs it (properties set, <c>[GlobalSetup]</c>,
/// ops with <c>[IterationSetup]</c> / <c>[IterationCleanup]</c> around each batch, <c>[GlobalCleanup]</c>), counting
/// the bytes its ops allocate.
/// </summary>
internal sealed class InProcessBenchmark
{
    private const int WarmupOperations = 3;

    private readonly object _instance;
    private readonly MethodInfo _method;
    private readonly Type _type;

    // The op as a compiled call: reflection's Invoke would box a value result, allocating in the measurement.
    private readonly Action? _run;
    private readonly Func<Task>? _runTask;
    private readonly Func<ValueTask>? _runValueTask;

    private InProcessBenchmark(Type type, MethodInfo method, object instance)
    {
        _type = type;
        _method = method;
        _instance = instance;
        var call = Expression.Call(Expression.Constant(instance), method);
        if (typeof(Task).IsAssignableFrom(method.ReturnType))
        {
            _runTask = Expression.Lambda<Func<Task>>(call).Compile();
        }
        else if (method.ReturnType == typeof(ValueTask))
        {
            _runValueTask = Expression.Lambda<Func<ValueTask>>(call).Compile();
        }
        else
        {
            _run = Expression.Lambda<Action>(Expression.Block(typeof(void), call)).Compile();
        }
    }

    /// <summary>
    /// Finds <paramref name="budget"/>'s benchmark and sets its parameters; null with the reason in
    /// <paramref name="missing"/> when the class, the method or a parameter no longer exists.
    /// </summary>
    public static InProcessBenchmark? Resolve(AllocationBudget budget, out string? missing)
    {
        missing = null;
        var dot = budget.Benchmark.LastIndexOf('.');
        var typeName = dot < 0 ? "" : budget.Benchmark[..dot];
        var methodName = budget.Benchmark[(dot + 1)..];
        var types = typeof(Benchmarks.Push.PushDecodingBenchmarks).Assembly.GetTypes().Where(t => t.Name == typeName).ToList();
        if (types.Count != 1)
        {
            missing = types.Count == 0 ? $"no benchmark class {typeName}" : $"{types.Count} classes named {typeName}";
            return null;
        }

        var type = types[0];
        var method = type.GetMethod(methodName, BindingFlags.Public | BindingFlags.Instance, Type.EmptyTypes);
        if (method?.GetCustomAttribute<BenchmarkAttribute>() is null)
        {
            missing = $"{typeName} has no [Benchmark] method {methodName}()";
            return null;
        }

        var instance = Activator.CreateInstance(type)!;
        foreach (var (name, text) in budget.Parameters)
        {
            var property = type.GetProperty(name, BindingFlags.Public | BindingFlags.Instance);
            if (property is null || !property.CanWrite)
            {
                missing = $"{typeName} has no settable parameter {name}";
                return null;
            }

            var propertyType = property.PropertyType;
            var value = propertyType.IsEnum
                ? Enum.Parse(propertyType, text)
                : Convert.ChangeType(text, propertyType, CultureInfo.InvariantCulture);
            property.SetValue(instance, value);
        }

        return new InProcessBenchmark(type, method, instance);
    }

    /// <summary>
    /// Runs the case: setup, a warm-up iteration, then <paramref name="operations"/> counted ops; returns bytes per
    /// op. Counted on every thread, it is the least of three such rounds: other threads of the test host only add.
    /// </summary>
    public long MeasureBytesPerOp(int operations, bool allThreads)
    {
        Invoke<GlobalSetupAttribute>();
        try
        {
            RunIteration(WarmupOperations);
            var least = long.MaxValue;
            for (var round = 0; round < (allThreads ? 3 : 1); round++)
            {
                Invoke<IterationSetupAttribute>();
                var before = Allocated(allThreads);
                for (var i = 0; i < operations; i++)
                {
                    RunOperation();
                }

                var after = Allocated(allThreads);
                Invoke<IterationCleanupAttribute>();
                least = Math.Min(least, (after - before + (operations / 2)) / operations);
            }

            return least;
        }
        finally
        {
            Invoke<GlobalCleanupAttribute>();
        }
    }

    private static long Allocated(bool allThreads) =>
        allThreads ? GC.GetTotalAllocatedBytes(precise: true) : GC.GetAllocatedBytesForCurrentThread();

    private void RunIteration(int operations)
    {
        Invoke<IterationSetupAttribute>();
        for (var i = 0; i < operations; i++)
        {
            RunOperation();
        }

        Invoke<IterationCleanupAttribute>();
    }

    private void RunOperation()
    {
        if (_run is not null)
        {
            _run();
        }
        else if (_runTask is not null)
        {
            _runTask().GetAwaiter().GetResult();
        }
        else
        {
            _runValueTask!().GetAwaiter().GetResult();
        }
    }

    // Runs the class's methods marked with TAttribute that apply to this benchmark (no target, or it is a target).
    private void Invoke<TAttribute>()
        where TAttribute : TargetedAttribute
    {
        foreach (var method in _type.GetMethods(BindingFlags.Public | BindingFlags.Instance))
        {
            var attribute = method.GetCustomAttribute<TAttribute>();
            if (attribute is not null && (attribute.Targets is not { Length: > 0 } targets || targets.Contains(_method.Name)))
            {
                method.Invoke(_instance, null);
            }
        }
    }
}
