namespace Dashboard.Tracking;

/// <summary>
/// An in-process signal "this run changed" from the write paths of <see cref="RunService"/> to whoever watches the run
/// (an open run page). It only says when to look: watchers read the database themselves, and also look on a slow timer,
/// so that writes that reached another replica are seen too, only later (docs/adr/0011-run-page.md).
/// Subscribers' callbacks run on the writer's thread after its commit: they must only signal, never wait or query.
/// </summary>
public sealed class RunChanges
{
    private readonly Dictionary<string, List<Action>> _watchers = new(StringComparer.Ordinal);
    private readonly Lock _lock = new();

    /// <summary>Calls <paramref name="changed"/> after each committed write to the run, until the result is disposed.</summary>
    public IDisposable Watch(string runId, Action changed)
    {
        lock (_lock)
        {
            if (!_watchers.TryGetValue(runId, out var list))
            {
                _watchers[runId] = list = [];
            }
            list.Add(changed);
        }
        return new Subscription(this, runId, changed);
    }

    /// <summary>How many callbacks watch the run (for tests).</summary>
    public int Watchers(string runId)
    {
        lock (_lock)
        {
            return _watchers.TryGetValue(runId, out var list) ? list.Count : 0;
        }
    }

    public void Changed(string runId)
    {
        Action[] callbacks;
        lock (_lock)
        {
            // Without watchers (the usual case: nobody has the run open) a write costs one dictionary lookup.
            if (!_watchers.TryGetValue(runId, out var list))
            {
                return;
            }
            callbacks = [.. list];
        }
        foreach (var callback in callbacks)
        {
            callback();
        }
    }

    private void Remove(string runId, Action changed)
    {
        lock (_lock)
        {
            if (_watchers.TryGetValue(runId, out var list) && list.Remove(changed) && list.Count == 0)
            {
                _watchers.Remove(runId);
            }
        }
    }

    private sealed class Subscription(RunChanges owner, string runId, Action changed) : IDisposable
    {
        private int _disposed;

        public void Dispose()
        {
            if (Interlocked.Exchange(ref _disposed, 1) == 0)
            {
                owner.Remove(runId, changed);
            }
        }
    }
}
