namespace LokiSharp.LogQL.Evaluation.Steps;

/// <summary>
/// The value of a range function over the samples of one series in one window, fed sample by sample in time order.
/// The arithmetic follows Loki's aggregators operation for operation so results match to the last bit. Which
/// function uses which accumulator is a column of <see cref="Ast.RangeFunction"/>'s table.
/// </summary>
internal abstract class RangeAccumulator
{
    protected long RangeEndNs { get; private set; }

    public void Reset(long rangeEndNs)
    {
        RangeEndNs = rangeEndNs;
        Clear();
    }

    public abstract void Add(long timestampNs, double value);

    public abstract double Result();

    protected abstract void Clear();

    /// <summary>Go's <c>time.Duration.Seconds()</c>: whole seconds plus the remainder, to match its rounding.</summary>
    public static double GoSeconds(long nanoseconds) =>
        (nanoseconds / 1_000_000_000L) + ((nanoseconds % 1_000_000_000L) / 1e9);

    /// <summary>Loki's <c>Quantile</c>: NaN for no values, ±Inf outside [0, 1], else linear interpolation at rank q·(n−1).</summary>
    public static double QuantileOf(double q, List<double> values)
    {
        if (values.Count == 0)
        {
            return double.NaN;
        }

        if (q < 0)
        {
            return double.NegativeInfinity;
        }

        if (q > 1)
        {
            return double.PositiveInfinity;
        }

        // Loki's ordering puts NaN below every number.
        values.Sort(static (a, b) => double.IsNaN(a) ? (double.IsNaN(b) ? 0 : -1) : double.IsNaN(b) ? 1 : a.CompareTo(b));
        double n = values.Count;
        var rank = q * (n - 1);
        var lowerIndex = Math.Max(0, Math.Floor(rank));
        var upperIndex = Math.Min(n - 1, lowerIndex + 1);
        var weight = rank - Math.Floor(rank);
        return (values[(int)lowerIndex] * (1 - weight)) + (values[(int)upperIndex] * weight);
    }

    internal sealed class Count : RangeAccumulator
    {
        private double _count;

        public override void Add(long timestampNs, double value) => _count++;

        public override double Result() => _count;

        protected override void Clear() => _count = 0;
    }

    internal sealed class CountPerSecond(double seconds) : RangeAccumulator
    {
        private double _count;

        public override void Add(long timestampNs, double value) => _count++;

        public override double Result() => _count / seconds;

        protected override void Clear() => _count = 0;
    }

    internal sealed class SumPerSecond(double seconds) : RangeAccumulator
    {
        private double _sum;

        public override void Add(long timestampNs, double value) => _sum += value;

        public override double Result() => _sum / seconds;

        protected override void Clear() => _sum = 0;
    }

    internal sealed class Sum : RangeAccumulator
    {
        private double _sum;

        public override void Add(long timestampNs, double value) => _sum += value;

        public override double Result() => _sum;

        protected override void Clear() => _sum = 0;
    }

    internal sealed class Avg : RangeAccumulator
    {
        private double _mean;
        private double _count;

        public override void Add(long timestampNs, double value)
        {
            _count++;
            if (double.IsInfinity(_mean))
            {
                // Same-sign infinities and finite values cannot change an infinite mean; subtracting would give NaN.
                if (double.IsInfinity(value) && (_mean > 0) == (value > 0))
                {
                    return;
                }

                if (!double.IsInfinity(value) && !double.IsNaN(value))
                {
                    return;
                }
            }

            _mean += (value / _count) - (_mean / _count);
        }

        public override double Result() => _mean;

        protected override void Clear()
        {
            _mean = 0;
            _count = 0;
        }
    }

    internal sealed class Max : RangeAccumulator
    {
        private double _max = double.NaN;

        public override void Add(long timestampNs, double value)
        {
            if (value > _max || double.IsNaN(_max))
            {
                _max = value;
            }
        }

        public override double Result() => _max;

        protected override void Clear() => _max = double.NaN;
    }

    internal sealed class Min : RangeAccumulator
    {
        private double _min = double.NaN;

        public override void Add(long timestampNs, double value)
        {
            if (value < _min || double.IsNaN(_min))
            {
                _min = value;
            }
        }

        public override double Result() => _min;

        protected override void Clear() => _min = double.NaN;
    }

    /// <summary>Welford's online variance, as Loki computes stdvar/stddev_over_time.</summary>
    internal sealed class Variance(bool squareRoot) : RangeAccumulator
    {
        private double _aux;
        private double _count;
        private double _mean;

        public override void Add(long timestampNs, double value)
        {
            _count++;
            var delta = value - _mean;
            _mean += delta / _count;
            _aux += delta * (value - _mean);
        }

        public override double Result() => squareRoot ? Math.Sqrt(_aux / _count) : _aux / _count;

        protected override void Clear()
        {
            _aux = 0;
            _count = 0;
            _mean = 0;
        }
    }

    internal sealed class Quantile(double q) : RangeAccumulator
    {
        private readonly List<double> _values = [];

        public override void Add(long timestampNs, double value) => _values.Add(value);

        public override double Result() => QuantileOf(q, _values);

        protected override void Clear() => _values.Clear();
    }

    internal sealed class First : RangeAccumulator
    {
        private double _value;
        private bool _hasData;

        public override void Add(long timestampNs, double value)
        {
            if (!_hasData)
            {
                _value = value;
                _hasData = true;
            }
        }

        public override double Result() => _value;

        protected override void Clear()
        {
            _value = 0;
            _hasData = false;
        }
    }

    internal sealed class Last : RangeAccumulator
    {
        private double _value;

        public override void Add(long timestampNs, double value) => _value = value;

        public override double Result() => _value;

        protected override void Clear() => _value = 0;
    }

    internal sealed class One : RangeAccumulator
    {
        public override void Add(long timestampNs, double value)
        {
        }

        public override double Result() => 1.0;

        protected override void Clear()
        {
        }
    }

    /// <summary>
    /// Prometheus' extrapolated counter rate as Loki adapts it: nanosecond timestamps, the window's edges taken from
    /// the query rather than from the samples.
    /// </summary>
    internal sealed class RateCounter(long rangeNs) : RangeAccumulator
    {
        private readonly List<(long T, double F)> _samples = [];

        public override void Add(long timestampNs, double value) => _samples.Add((timestampNs, value));

        public override double Result()
        {
            var samples = _samples;
            if (samples.Count < 2)
            {
                return 0;
            }

            var rangeStart = RangeEndNs - rangeNs;
            var first = samples[0];
            var last = samples[^1];
            var resultValue = last.F - first.F;
            double lastValue = 0;
            foreach (var sample in samples)
            {
                // A drop is a counter reset: the value before it was lost from the difference.
                if (sample.F < lastValue)
                {
                    resultValue += lastValue;
                }

                lastValue = sample.F;
            }

            var durationToStart = (first.T - rangeStart) / 1e9;
            var durationToEnd = (RangeEndNs - last.T) / 1e9;
            var sampledInterval = (last.T - first.T) / 1e9;
            var averageDurationBetweenSamples = sampledInterval / (samples.Count - 1);
            var extrapolationThreshold = averageDurationBetweenSamples * 1.1;
            if (durationToStart >= extrapolationThreshold)
            {
                durationToStart = averageDurationBetweenSamples / 2;
            }

            // A counter cannot go below zero: extrapolate back at most to where it would have been zero.
            var durationToZero = durationToStart;
            if (resultValue > 0 && first.F >= 0)
            {
                durationToZero = sampledInterval * (first.F / resultValue);
            }

            if (durationToZero < durationToStart)
            {
                durationToStart = durationToZero;
            }

            if (durationToEnd >= extrapolationThreshold)
            {
                durationToEnd = averageDurationBetweenSamples / 2;
            }

            var extrapolateToInterval = sampledInterval + durationToStart + durationToEnd;
            resultValue *= extrapolateToInterval / sampledInterval;
            return resultValue / GoSeconds(rangeNs);
        }

        protected override void Clear() => _samples.Clear();
    }
}
