using System.Collections.Concurrent;
using Microsoft.Extensions.Options;

namespace CaptionService.Api.Models;

/// <summary>
/// Reloads a model when its package's files change: a file-system watcher per package directory
/// marks it, and once its files have been quiet for <see cref="ModelRepositoryOptions.ReloadDebounce"/>
/// the model reloads if its files differ from the loaded version's. Every
/// <see cref="ModelRepositoryOptions.PollInterval"/> all packages are compared too, for volumes
/// that raise no events. Reloads run one at a time, so two packages never load at once.
/// </summary>
internal sealed partial class PackageChangeMonitor(
    ModelRegistry registry,
    IOptions<ModelRepositoryOptions> options,
    ILogger<PackageChangeMonitor> logger) : BackgroundService
{
    private readonly ConcurrentDictionary<string, long> _changedAt = new(StringComparer.Ordinal);
    private readonly List<FileSystemWatcher> _watchers = [];

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var settings = options.Value;
        if (settings.WatchForChanges)
        {
            foreach (var model in registry.Models)
            {
                Watch(model);
            }
        }

        if (!settings.WatchForChanges && settings.PollInterval == TimeSpan.Zero)
        {
            return;
        }

        LogWatching(logger, registry.Models.Count, settings.WatchForChanges, settings.ReloadDebounce, settings.PollInterval);
        var tick = TimeSpan.FromTicks(Math.Clamp(settings.ReloadDebounce.Ticks / 4, TimeSpan.FromMilliseconds(10).Ticks, TimeSpan.FromMilliseconds(250).Ticks));
        var nextPoll = settings.PollInterval > TimeSpan.Zero ? TimeProvider.System.GetTimestamp() : long.MaxValue;
        using var timer = new PeriodicTimer(tick);
        try
        {
            while (await timer.WaitForNextTickAsync(stoppingToken))
            {
                var now = TimeProvider.System.GetTimestamp();
                var poll = now >= nextPoll;
                if (poll)
                {
                    nextPoll = now + (long)(settings.PollInterval.TotalSeconds * TimeProvider.System.TimestampFrequency);
                }

                foreach (var model in registry.Models)
                {
                    if (_changedAt.TryGetValue(model.Name, out var changedAt)
                        && TimeProvider.System.GetElapsedTime(changedAt) >= settings.ReloadDebounce
                        && _changedAt.TryRemove(new KeyValuePair<string, long>(model.Name, changedAt)))
                    {
                        await model.ReloadAsync("file change", force: false, stoppingToken);
                    }
                    else if (poll && !_changedAt.ContainsKey(model.Name))
                    {
                        await model.ReloadAsync("poll", force: false, stoppingToken);
                    }
                }
            }
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
            // Shutting down.
        }
    }

    public override void Dispose()
    {
        foreach (var watcher in _watchers)
        {
            watcher.Dispose();
        }

        base.Dispose();
    }

    private void Watch(HostedModel model)
    {
        if (!Directory.Exists(model.Directory))
        {
            return; // polling notices when it appears
        }

        var watcher = new FileSystemWatcher(model.Directory)
        {
            IncludeSubdirectories = true,
            NotifyFilter = NotifyFilters.FileName | NotifyFilters.DirectoryName | NotifyFilters.LastWrite | NotifyFilters.Size | NotifyFilters.CreationTime,
        };
        void Changed(object? sender, EventArgs e) => _changedAt[model.Name] = TimeProvider.System.GetTimestamp();
        watcher.Changed += Changed;
        watcher.Created += Changed;
        watcher.Deleted += Changed;
        watcher.Renamed += Changed;
        watcher.Error += Changed; // an overflowed event buffer: look at the files anyway
        watcher.EnableRaisingEvents = true;
        _watchers.Add(watcher);
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Watching {ModelCount} model packages for changes (events {Watch}, debounce {Debounce}, poll every {PollInterval})")]
    private static partial void LogWatching(ILogger logger, int modelCount, bool watch, TimeSpan debounce, TimeSpan pollInterval);
}
