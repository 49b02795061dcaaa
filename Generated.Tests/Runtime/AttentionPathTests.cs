using RnaLm.Modules;
using Xunit;

namespace RnaLm.Tests.Runtime;

/// <summary>
/// Which path a generated attention takes when no probabilities are kept: the explicit product only while its
/// [B, h, L, L] scores are small, so long inputs and large batches never materialise them.
/// </summary>
public sealed class AttentionPathTests
{
    [Theory]
    [InlineData(1, 12, 128, false)] // 0.75 MiB of scores: explicit
    [InlineData(1, 16, 128, false)] // 1 MiB
    [InlineData(1, 12, 256, true)]  // 3 MiB: fused
    [InlineData(8, 12, 128, true)]  // 6 MiB
    [InlineData(8, 12, 512, true)]  // 96 MiB
    [InlineData(1, 12, 100_000, true)] // far beyond memory: never explicit (no overflow of the size either)
    public void OnlySmallScoresTakeTheExplicitProduct(long batch, long heads, long length, bool fused)
    {
        Assert.Equal(fused, AttentionPaths.Fused(batch, heads, length));
    }

    [Fact]
    public void ForcingAPathLastsUntilDisposed()
    {
        using (AttentionPaths.Force(fused: true))
        {
            Assert.True(AttentionPaths.Fused(1, 1, 1));
            using (AttentionPaths.Force(fused: false))
            {
                Assert.False(AttentionPaths.Fused(8, 12, 512));
            }
            Assert.True(AttentionPaths.Fused(1, 1, 1));
        }
        Assert.False(AttentionPaths.Fused(1, 1, 1));
        Assert.True(AttentionPaths.Fused(8, 12, 512));
    }
}
