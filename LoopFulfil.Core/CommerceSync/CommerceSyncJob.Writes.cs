using System.Collections.Concurrent;
using LoopFulfil.Core.Errors;
using LoopFulfil.Core.Exceptions;
using LoopFulfil.Core.Fulfil;
using LoopFulfil.Core.Loop;

namespace LoopFulfil.Core.CommerceSync;

public sealed partial class CommerceSyncJob
{
    /// <summary>What became of one record in a run (counted per kind).</summary>
    private enum ItemOutcome
    {
        Sent,
        Unchanged,
        NotSent,
        Failed,
        Skipped,
    }

    /// <summary>Reason prefix of records Loop refused (as opposed to held back for a dependency).</summary>
    private const string LoopRefused = "Loop refused it: ";

    private static string ProblemKey(string kind, string fulfilId) => $"{kind}:{fulfilId}";

    // Sending to Loop and recording the outcome: one content-hashed mapping per record, written in batches.
    private sealed partial class Run
    {
        private readonly ConcurrentDictionary<string, Lazy<Task<ConcurrentDictionary<string, CommerceMapping>>>> _maps = new(StringComparer.Ordinal);
        private readonly ConcurrentDictionary<string, Lazy<Task<Resolved>>> _ensures = new(StringComparer.Ordinal);
        private readonly Lock _pendingGate = new();
        private readonly List<Task> _flushes = [];
        private List<CommerceMapping> _pending = [];

        /// <summary>The run's view of the mappings of <paramref name="kind"/>, loaded once and updated as it sends.</summary>
        public Task<ConcurrentDictionary<string, CommerceMapping>> MapAsync(string kind) =>
            _maps.GetOrAdd(kind, k => new Lazy<Task<ConcurrentDictionary<string, CommerceMapping>>>(async () =>
                new ConcurrentDictionary<string, CommerceMapping>(await Store.LoadAsync(k, Ct).ConfigureAwait(false), StringComparer.Ordinal))).Value;

        /// <summary>Runs <paramref name="factory"/> once per run for <paramref name="key"/> (dependencies pushed on demand).</summary>
        public Task<Resolved> Once(string key, Func<Task<Resolved>> factory) =>
            _ensures.GetOrAdd(key, _ => new Lazy<Task<Resolved>>(factory)).Value;

        /// <summary>
        /// Sends <paramref name="body"/> unless Loop already holds exactly it (same content hash), and records the
        /// outcome. The mapping is written even if the run is being cancelled, so an accepted write is never repeated.
        /// <paramref name="sent"/> is told the mapping the record had before a successful send.
        /// </summary>
        public async Task<(ItemOutcome Outcome, string? LoopId)> SendAsync<T>(
            string kind,
            string fulfilId,
            T body,
            Func<T, CancellationToken, Task<string?>> send,
            CancellationToken token,
            string? salt = null,
            Func<CommerceMapping, CommerceMapping>? decorate = null,
            Action<CommerceMapping?>? sent = null)
        {
            var map = await MapAsync(kind).ConfigureAwait(false);
            var hash = CommerceMapper.Hash(body, salt);
            map.TryGetValue(fulfilId, out var existing);
            if (existing is { Outcome: CommerceOutcome.Sent, LoopId: not null } && existing.ContentHash == hash)
            {
                Count(kind, ItemOutcome.Unchanged);
                return (ItemOutcome.Unchanged, existing.LoopId);
            }

            string? loopId;
            try
            {
                Interlocked.Increment(ref _loopWrites);
                loopId = await send(body, token).ConfigureAwait(false);
            }
            catch (PermanentIntegrationException ex) when (ex is not LoopAuthenticationException and not FulfilAuthenticationException)
            {
                return (await NotSentAsync(kind, fulfilId, $"{LoopRefused}{ex.Message}", existing).ConfigureAwait(false), null);
            }
            catch (TransientIntegrationException ex)
            {
                LogTransient(_job._logger, kind, fulfilId, ex.Message);
                return (Failed(map, kind, fulfilId, ex.Message, existing), null);
            }

            if (string.IsNullOrEmpty(loopId))
            {
                return (await NotSentAsync(kind, fulfilId, "Loop answered without an id", existing).ConfigureAwait(false), null);
            }

            var mapping = new CommerceMapping
            {
                Kind = kind,
                FulfilId = fulfilId,
                LoopId = loopId,
                ContentHash = hash,
                Outcome = CommerceOutcome.Sent,
                UpdatedAt = Time.GetUtcNow(),
            };
            mapping = decorate?.Invoke(mapping) ?? mapping;
            Record(mapping);
            map[fulfilId] = mapping;
            if (existing is { Outcome: CommerceOutcome.NotSent })
            {
                await ResolveProblemAsync(kind, fulfilId).ConfigureAwait(false);
            }

            sent?.Invoke(existing);
            Count(kind, ItemOutcome.Sent);
            return (ItemOutcome.Sent, loopId);
        }

        /// <summary>
        /// Records why a record was not sent, and raises it for its owner (CommerceRecordNotSent) unless the same reason
        /// was already raised. A Loop id already known is kept (Loop still has the older version). Failed (retried next
        /// run) when the exception record cannot be written, so a problem is never recorded without being raised.
        /// </summary>
        public async Task<ItemOutcome> NotSentAsync(string kind, string fulfilId, string reason, CommerceMapping? existing = null)
        {
            var map = await MapAsync(kind).ConfigureAwait(false);
            existing ??= map.GetValueOrDefault(fulfilId);
            var raised = existing is { Outcome: CommerceOutcome.NotSent } && string.Equals(existing.Reason, reason, StringComparison.Ordinal);
            if (!raised && _job._exceptions is { } exceptions)
            {
                try
                {
                    await exceptions.RaiseAsync(
                        new ExceptionRaise(ExceptionCategory.CommerceRecordNotSent, null, $"Fulfil {kind} {fulfilId} was not sent to Loop: {reason}")
                        {
                            DetailKey = ProblemKey(kind, fulfilId),
                            Source = ExceptionSource,
                        },
                        CancellationToken.None).ConfigureAwait(false);
                }
                catch (TransientIntegrationException ex)
                {
                    LogTransient(_job._logger, kind, fulfilId, ex.Message);
                    return Failed(map, kind, fulfilId, reason, existing);
                }
            }

            var mapping = new CommerceMapping
            {
                Kind = kind,
                FulfilId = fulfilId,
                LoopId = existing?.LoopId,
                ParentId = existing?.ParentId,
                Outcome = CommerceOutcome.NotSent,
                Reason = reason,
                UpdatedAt = Time.GetUtcNow(),
            };
            Record(mapping);
            map[fulfilId] = mapping;
            LogNotSent(_job._logger, kind, fulfilId, reason);
            Count(kind, ItemOutcome.NotSent);
            return ItemOutcome.NotSent;
        }

        /// <summary>Records a transient failure: the mapping keeps its Loop id, the next run tries the record again.</summary>
        private ItemOutcome Failed(ConcurrentDictionary<string, CommerceMapping> map, string kind, string fulfilId, string reason, CommerceMapping? existing)
        {
            var failed = (existing ?? new CommerceMapping { Kind = kind, FulfilId = fulfilId }) with
            {
                Outcome = CommerceOutcome.Failed,
                Reason = reason,
                UpdatedAt = Time.GetUtcNow(),
            };
            Record(failed);
            map[fulfilId] = failed;
            Count(kind, ItemOutcome.Failed);
            return ItemOutcome.Failed;
        }

        /// <summary>A record that was not sent before and now is: its exception record resolves itself.</summary>
        private async Task ResolveProblemAsync(string kind, string fulfilId)
        {
            if (_job._exceptions is not { } exceptions)
            {
                return;
            }

            try
            {
                await exceptions.ResolveIfOpenAsync(ExceptionCategory.CommerceRecordNotSent, null, ProblemKey(kind, fulfilId), "Sent to Loop by a later commerce sync run.", CancellationToken.None).ConfigureAwait(false);
            }
            catch (TransientIntegrationException ex)
            {
                // The record stays open for a person to close; the data itself is in Loop.
                LogTransient(_job._logger, kind, fulfilId, ex.Message);
            }
        }

        /// <summary>
        /// Queues a mapping for a batched write (100 rows per request). The in-memory map is already updated, so
        /// dependants see it at once; <see cref="FlushAsync"/> runs before every checkpoint and at the end of the run,
        /// so a checkpoint never gets ahead of the mappings it stands for.
        /// </summary>
        private void Record(CommerceMapping mapping)
        {
            List<CommerceMapping>? full = null;
            lock (_pendingGate)
            {
                _pending.Add(mapping);
                if (_pending.Count >= 100)
                {
                    full = _pending;
                    _pending = [];
                }
            }

            if (full is not null)
            {
                var flush = Store.SaveManyAsync(full, CancellationToken.None);
                lock (_pendingGate)
                {
                    _flushes.Add(flush);
                }
            }
        }

        /// <summary>Writes every queued mapping (even when the run is being cancelled: Loop already holds them).</summary>
        public async Task FlushAsync()
        {
            List<CommerceMapping> rest;
            Task[] running;
            lock (_pendingGate)
            {
                rest = _pending;
                _pending = [];
                running = [.. _flushes];
                _flushes.Clear();
            }

            if (rest.Count > 0)
            {
                await Store.SaveManyAsync(rest, CancellationToken.None).ConfigureAwait(false);
            }

            await Task.WhenAll(running).ConfigureAwait(false);
        }
    }
}
