using System.Runtime.ExceptionServices;
using LokiSharp.LogQL.Labels;

namespace LokiSharp.LogQL.Evaluation.Steps;

/// <content>
/// Loading a slice: replaying the carried samples, draining the cursors on the workers, placing samples in windows.
/// </content>
internal sealed partial class RangeVectorEvaluator
{
    /// <summary>
    /// Replaces the previous slice with the one starting at <paramref name="first"/>: replays the samples the previous
    /// slice carried over (those within a range of this slice's first step), drains the cursors of the samples after
    /// the previous slice in parallel, then gathers each series' samples and orders the series for the steps. Nothing
    /// is read twice, and a series is held only while its samples are within a range of the slice.
    /// </summary>
    private void LoadSlice(long first)
    {
        while (true)
        {
            // Only a slice with nothing carried into it can simply start over.
            var restartable = _carry.Length == 0 && _sliceSteps > _minSliceSteps;
            var readThrough = _readThrough;
            try
            {
                LoadSlice(first, restartable);
                return;
            }
            catch (SliceTooLargeException) when (restartable)
            {
                _readThrough = readThrough;
                _sliceSteps = Math.Max(_minSliceSteps, _sliceSteps / SliceGrowth);
            }
        }
    }

    private void LoadSlice(long first, bool restartable)
    {
        DisposeCursors();
        _active.Clear();
        _series.Release();
        _series = SliceSeries.Empty;
        _nextSeries = 0;
        _sliceStart = first;
        _sliceEnd = Math.Min(_steps, first + _sliceSteps);
        _carryFrom = _sliceEnd < _steps ? _firstStepNs + (_sliceEnd * _step) - _range : long.MaxValue;
        var end = _sliceEnd == _steps ? _lastNs : _firstStepNs + ((_sliceEnd - 1) * _step);
        var previous = _carry;
        _carry = [];
        var logs = new List<SliceLog>();
        try
        {
            if (HasTail(previous))
            {
                var carried = RentLog();
                logs.Add(carried);
                Replay(previous, carried);
            }

            ReleaseTails(previous);
            foreach (var log in previous)
            {
                _spareLogs.Push(log);
            }

            previous = [];

            // Cursor numbers grow across slices, so carried segments keep their rank among this slice's.
            _cursorBase += _cursors.Length;
            _readFrom = Math.Max(_firstStepNs + (first * _step) - _range, _readThrough);
            _cursors = [.. _select(_readFrom, end)];
            _readThrough = end;
            var workers = Math.Max(1, Math.Min(_parallelism, _cursors.Length));
            var drained = new SliceLog[workers];
            for (var i = 0; i < workers; i++)
            {
                logs.Add(drained[i] = RentLog());
                drained[i].RestartAbove = restartable ? MetricQueryLimits.SliceSeriesPerReader(_targetSeries, workers) : 0;
            }

            if (workers == 1)
            {
                DrainCursors(drained[0], 1, _cancellation);
            }
            else
            {
                DrainInParallel(drained);
            }

            _series = SliceSeries.Build([.. logs], _countOnly, _seriesLimit, _memory, _origins, _shelf, _projection,
                new WindowCells(_firstStepNs, _step, _sliceStart, _sliceEnd, _range), last: _sliceEnd >= _steps);
            _seriesEpoch++;
            _carry = [.. logs];
            var held = _series.Count;
            _sliceSteps = Math.Clamp(held > _targetSeries ? _sliceSteps * _targetSeries / held : _sliceSteps * SliceGrowth,
                _minSliceSteps, _maxSliceSteps);
        }
        catch
        {
            // Emptied (in finally) and kept for a restarted slice; the evaluator's disposal gives their memory back.
            ReleaseTails(previous);
            ReleaseTails([.. logs]);
            foreach (var log in previous)
            {
                _spareLogs.Push(log);
            }

            foreach (var log in logs)
            {
                _spareLogs.Push(log);
            }

            throw;
        }
        finally
        {
            foreach (var log in logs)
            {
                log.Release();
            }
        }
    }

    private SliceLog RentLog()
    {
        var log = _spareLogs.TryPop(out var spare) ? spare : new SliceLog(_seriesKey, _projection is null, _seriesLimit, _memory, _shelf);
        log.RestartAbove = 0;
        return log;
    }

    private static bool HasTail(SliceLog[] logs)
    {
        foreach (var log in logs)
        {
            if (log.TailCount > 0)
            {
                return true;
            }
        }

        return false;
    }

    /// <summary>Feeds the previous slice's tail samples into this slice, each cursor's under its own number as before.</summary>
    private void Replay(SliceLog[] previous, SliceLog carried)
    {
        var cells = new WindowCells(_firstStepNs, _step, _sliceStart, _sliceEnd, _range);
        foreach (var log in previous)
        {
            var cursor = -1;
            var lastSeries = int.MinValue;
            var segment = -1;
            for (var r = 0; r < log.TailCount; r++)
            {
                if (log.TailCursor[r] != cursor)
                {
                    cursor = log.TailCursor[r];
                    carried.BeginCursor(cursor);
                    lastSeries = int.MinValue;
                }

                var ts = log.TailTimestamps[r];
                var value = log.TailValues[r];
                if (!InWindows(ref cells, ts))
                {
                    if (ts > _carryFrom)
                    {
                        carried.AddTail(ts, value, -1, log.TailLabels(r));
                    }

                    continue;
                }

                if (log.TailSeries(r) != lastSeries)
                {
                    lastSeries = log.TailSeries(r);
                    segment = log.SegmentIn(carried, r);
                }

                if (ts > _carryFrom)
                {
                    // Slices are at least a range long, so a replayed sample is not carried again; kept for the rule's sake.
                    carried.AddTail(ts, value, segment, log.TailLabels(r));
                }

                Record(carried, ref cells, segment, ts, value);
            }
        }
    }

    private void DrainInParallel(SliceLog[] logs)
    {
        using var stop = CancellationTokenSource.CreateLinkedTokenSource(_cancellation);
        var token = stop.Token;
        var tasks = new Task[logs.Length - 1];
        for (var i = 0; i < tasks.Length; i++)
        {
            var log = logs[i + 1];
            tasks[i] = Task.Run(() => DrainOrStop(log, logs.Length, stop, token), CancellationToken.None);
        }

        // This thread works too, so the query progresses even when the pool is slow to start the others.
        var failures = new List<Exception>();
        try
        {
            DrainOrStop(logs[0], logs.Length, stop, token);
        }
        catch (Exception e)
        {
            failures.Add(e);
        }

        foreach (var task in tasks)
        {
            try
            {
                task.GetAwaiter().GetResult();
            }
            catch (Exception e)
            {
                failures.Add(e);
            }
        }

        if (failures.Count == 0)
        {
            return;
        }

        _cancellation.ThrowIfCancellationRequested();

        // The first real failure stopped the others; their cancellations are only its echo.
        var cause = failures.Find(static e => e is not OperationCanceledException) ?? failures[0];
        ExceptionDispatchInfo.Capture(cause).Throw();
    }

    private void DrainOrStop(SliceLog log, int workers, CancellationTokenSource stop, CancellationToken token)
    {
        try
        {
            DrainCursors(log, workers, token);
        }
        catch
        {
            stop.Cancel();
            throw;
        }
    }

    /// <summary>Takes cursors one by one until none is left; each cursor is read by exactly one of the <paramref name="workers"/>.</summary>
    private void DrainCursors(SliceLog log, int workers, CancellationToken token)
    {
        var cells = new WindowCells(_firstStepNs, _step, _sliceStart, _sliceEnd, _range);
        var drained = 0;
        for (var i = 0; i < _cursors.Length; i++)
        {
            var cursor = Interlocked.Exchange(ref _cursors[i], null);
            if (cursor is null)
            {
                continue;
            }

            token.ThrowIfCancellationRequested();
            using (cursor)
            {
                log.BeginCursor(_cursorBase + i);
                Drain(cursor, log, ref cells, drained, workers, token);
            }

            drained++;
            if (ProjectsPastLimit(log, drained, workers))
            {
                throw new SliceTooLargeException();
            }
        }
    }

    private void Drain(ISampleCursor cursor, SliceLog log, ref WindowCells cells, int drained, int workers, CancellationToken token)
    {
        var poll = 0;
        while (cursor.MoveNext())
        {
            if (++poll == CancellationPollInterval)
            {
                poll = 0;
                token.ThrowIfCancellationRequested();

                // Within a cursor too: when every line is its own series, one cursor of a first slice far too long is
                // already a large part of the query's reading, thrown away when the slice starts over. Only once the
                // worker met a fair part of its limit, so a few series early in a cursor's time do not project far.
                if ((long)log.SeriesCount * EarlyRestartEvidence >= log.RestartAbove &&
                    ProjectsPastLimit(log, drained + ShareRead(cursor.TimestampNs), workers))
                {
                    throw new SliceTooLargeException();
                }
            }

            Accept(log, ref cells, cursor.TimestampNs, cursor.Value, cursor.Labels);
        }
    }

    /// <summary>
    /// Whether a worker's series, scaled from the <paramref name="cursorsRead"/> cursors it read to its share of all, project
    /// well past its restart limit: the slice then starts over now rather than after reading up to the limit.
    /// </summary>
    private bool ProjectsPastLimit(SliceLog log, double cursorsRead, int workers) =>
        log.RestartAbove > 0 && (double)log.SeriesCount * _cursors.Length > (double)log.RestartAbove * EarlyRestartMargin * cursorsRead * workers;

    /// <summary>How much of the slice's reading a cursor has done when at <paramref name="ts"/>, taking its samples as spread evenly.</summary>
    private double ShareRead(long ts) =>
        _readThrough > _readFrom ? Math.Clamp((double)(ts - _readFrom) / (_readThrough - _readFrom), 0, 1) : 1;

    /// <summary>Records one sample in the windows of this slice that contain it, and keeps it for the next slice if its windows reach there.</summary>
    private void Accept(SliceLog log, ref WindowCells cells, long ts, double value, LabelSet labels)
    {
        if (!InWindows(ref cells, ts))
        {
            if (ts > _carryFrom)
            {
                // Only from a cursor giving samples past the slice's end: carried with its own labels.
                log.AddTail(ts, value, -1, labels);
            }

            return;
        }

        var segment = log.SegmentOf(labels);

        if (ts > _carryFrom)
        {
            log.AddTail(ts, value, segment, labels);
        }

        Record(log, ref cells, segment, ts, value);
    }

    /// <summary>Whether a sample falls in some window of this slice.</summary>
    private bool InWindows(ref WindowCells cells, long ts)
    {
        if (!cells.Contains(ts))
        {
            cells.MoveTo(ts);
        }

        return cells.FirstStep < cells.EndStep;
    }

    private void Record(SliceLog log, ref WindowCells cells, int segment, long ts, double value)
    {
        if (_countOnly)
        {
            log.AddCount(segment, cells.FirstStep, cells.EndStep, ts);
        }
        else
        {
            log.AddSample(segment, cells.FirstStep, cells.EndStep, ts, value);
        }
    }

    /// <summary>
    /// Which steps' windows contain a timestamp: steps <c>[FirstStep, EndStep)</c> within the slice, constant between
    /// consecutive window edges, so time-ordered samples recompute it only when they cross an edge.
    /// </summary>
    private struct WindowCells(long firstStepNs, long step, long firstStep, long endStep, long range)
    {
        public readonly long SliceStart => firstStep;

        public readonly long SliceEnd => endStep;

        public readonly long Range => range;

        private long _low = long.MaxValue;
        private long _high = long.MinValue;

        public int FirstStep { get; private set; }

        public int EndStep { get; private set; }

        public readonly bool Contains(long ts) => ts > _low && ts <= _high;

        public void MoveTo(long ts)
        {
            // Steps k with t_k ≥ ts start at the number of steps before ts; windows still open end past ts - range.
            var first = Math.Clamp(CeilDiv(ts - firstStepNs, step), firstStep, endStep);
            var end = Math.Clamp(CeilDiv(ts + range - firstStepNs, step), firstStep, endStep);
            FirstStep = (int)first;
            EndStep = (int)end;
            _low = Math.Max(first > firstStep ? At(first - 1) : long.MinValue, end > firstStep ? At(end - 1) - range : long.MinValue);
            _high = Math.Min(first < endStep ? At(first) : long.MaxValue, end < endStep ? At(end) - range : long.MaxValue);
        }

        private readonly long At(long k) => firstStepNs + (k * step);

        private static long CeilDiv(long a, long b) => (a / b) + (a % b > 0 ? 1 : 0);
    }

    /// <summary>A first slice met too many series: it starts over shorter.</summary>
    private sealed class SliceTooLargeException : Exception;
}
