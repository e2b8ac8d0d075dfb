using System.Threading.RateLimiting;

namespace LoopFulfil.Core.Loop;

// The shared limiter's own block and the leases it hands out (a block's permits; a local and a block permit together).
internal sealed partial class SharedRollingWindowRateLimiter
{
    private sealed class OwnBlock(DateTimeOffset start, long expiresTicks, int remaining)
    {
        public DateTimeOffset Start { get; } = start;

        public long ExpiresTicks { get; } = expiresTicks;

        public int Remaining { get; set; } = remaining;

        public int Granted { get; set; }

        public int Released { get; set; }

        public DateTimeOffset? LastRelease { get; set; }

        public bool Retired { get; set; }

        public bool Closed { get; set; }
    }

    private sealed class BlockLease(SharedRollingWindowRateLimiter owner, OwnBlock block, int permitCount) : RateLimitLease
    {
        private int _released;

        public override bool IsAcquired => true;

        public override IEnumerable<string> MetadataNames => [];

        public override bool TryGetMetadata(string metadataName, out object? metadata)
        {
            metadata = null;
            return false;
        }

        protected override void Dispose(bool disposing)
        {
            if (disposing && Interlocked.Exchange(ref _released, 1) == 0)
            {
                owner.OnLeaseReleased(block, permitCount);
            }

            base.Dispose(disposing);
        }
    }

    private sealed class CombinedLease(RateLimitLease first, RateLimitLease second) : RateLimitLease
    {
        public override bool IsAcquired => first.IsAcquired && second.IsAcquired;

        public override IEnumerable<string> MetadataNames => first.MetadataNames.Concat(second.MetadataNames);

        public override bool TryGetMetadata(string metadataName, out object? metadata)
            => first.TryGetMetadata(metadataName, out metadata) || second.TryGetMetadata(metadataName, out metadata);

        protected override void Dispose(bool disposing)
        {
            if (disposing)
            {
                // The response is in: both permits count from now.
                second.Dispose();
                first.Dispose();
            }

            base.Dispose(disposing);
        }
    }
}
