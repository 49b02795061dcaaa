using System;
using System.Globalization;

namespace RnaLm.Training;

/// <summary>
/// The random number generator of training and masking: xoshiro256** seeded through SplitMix64. It is independent of
/// TorchSharp's global generator, its whole state is four 64-bit words (<see cref="State"/>), so a resumed run can
/// continue the exact stream, and the same seed gives the same numbers on every platform and .NET version.
/// </summary>
public sealed class TrainingRandom
{
    private ulong _s0, _s1, _s2, _s3;

    /// <summary>A generator whose state is derived from <paramref name="seed"/> with SplitMix64.</summary>
    public TrainingRandom(ulong seed)
    {
        ulong x = seed;
        _s0 = SplitMix(ref x);
        _s1 = SplitMix(ref x);
        _s2 = SplitMix(ref x);
        _s3 = SplitMix(ref x);
    }

    private TrainingRandom(ulong s0, ulong s1, ulong s2, ulong s3)
    {
        if ((s0 | s1 | s2 | s3) == 0) throw new ArgumentException("The all-zero state is not a valid xoshiro256** state.");
        (_s0, _s1, _s2, _s3) = (s0, s1, s2, s3);
    }

    /// <summary>A generator for one purpose of one step: the same (seed, stream, index) always gives the same numbers.</summary>
    /// <param name="seed">The run's seed.</param>
    /// <param name="stream">What the numbers are for (e.g. <see cref="Streams.Masking"/>), so purposes never share numbers.</param>
    /// <param name="index">The step, epoch or record index.</param>
    public static TrainingRandom For(long seed, ulong stream, long index)
    {
        ulong x = unchecked((ulong)seed) ^ (stream * 0x9E3779B97F4A7C15UL);
        ulong mixed = SplitMix(ref x) ^ unchecked((ulong)index * 0xD1B54A32D192ED03UL);
        return new TrainingRandom(mixed);
    }

    /// <summary>Purposes of derived generators (see <see cref="For"/>).</summary>
    public static class Streams
    {
        public const ulong DataOrder = 1;
        public const ulong Masking = 2;
        public const ulong Dropout = 3;
        public const ulong Split = 4;
        public const ulong Evaluation = 5;
    }

    /// <summary>The four state words as 16-digit hex, separated by '-' (stored in <c>trainer_state.json</c>).</summary>
    public string State => string.Create(CultureInfo.InvariantCulture, $"{_s0:x16}-{_s1:x16}-{_s2:x16}-{_s3:x16}");

    /// <summary>Restores a generator from <see cref="State"/> text.</summary>
    /// <exception cref="FormatException">The text is not four hex words.</exception>
    public static TrainingRandom FromState(string state)
    {
        ArgumentNullException.ThrowIfNull(state);
        var parts = state.Split('-');
        if (parts.Length != 4) throw new FormatException($"A random state has four words separated by '-'; found '{state}'.");
        var words = new ulong[4];
        for (int i = 0; i < 4; i++)
        {
            if (!ulong.TryParse(parts[i], NumberStyles.AllowHexSpecifier, CultureInfo.InvariantCulture, out words[i]))
            {
                throw new FormatException($"Word {i + 1} of the random state '{state}' is not hexadecimal.");
            }
        }
        return new TrainingRandom(words[0], words[1], words[2], words[3]);
    }

    /// <summary>The next 64 random bits.</summary>
    public ulong NextUInt64()
    {
        ulong result = RotateLeft(_s1 * 5, 7) * 9;
        ulong t = _s1 << 17;
        _s2 ^= _s0;
        _s3 ^= _s1;
        _s1 ^= _s2;
        _s0 ^= _s3;
        _s2 ^= t;
        _s3 = RotateLeft(_s3, 45);
        return result;
    }

    /// <summary>A uniform double in [0, 1) with 53 random bits.</summary>
    public double NextDouble() => (NextUInt64() >> 11) * (1.0 / (1UL << 53));

    /// <summary>A uniform integer in [0, <paramref name="maxExclusive"/>) without modulo bias.</summary>
    public int Next(int maxExclusive)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(maxExclusive);
        ulong bound = (ulong)maxExclusive;
        ulong threshold = (0UL - bound) % bound;
        while (true)
        {
            ulong r = NextUInt64();
            if (r >= threshold) return (int)(r % bound);
        }
    }

    /// <summary>A uniform integer in [<paramref name="minInclusive"/>, <paramref name="maxInclusive"/>].</summary>
    public int NextInclusive(int minInclusive, int maxInclusive)
    {
        if (maxInclusive < minInclusive) throw new ArgumentOutOfRangeException(nameof(maxInclusive));
        return minInclusive + Next(maxInclusive - minInclusive + 1);
    }

    /// <summary>True with probability <paramref name="p"/>.</summary>
    public bool Bernoulli(double p) => NextDouble() < p;

    /// <summary>A seed for another generator (e.g. TorchSharp's) drawn from this one, in [0, 2^62).</summary>
    public long NextSeed() => (long)(NextUInt64() >> 2);

    /// <summary>Shuffles <paramref name="items"/> in place (Fisher–Yates).</summary>
    public void Shuffle<T>(T[] items)
    {
        ArgumentNullException.ThrowIfNull(items);
        for (int i = items.Length - 1; i > 0; i--)
        {
            int j = Next(i + 1);
            (items[i], items[j]) = (items[j], items[i]);
        }
    }

    private static ulong RotateLeft(ulong x, int k) => (x << k) | (x >> (64 - k));

    private static ulong SplitMix(ref ulong x)
    {
        x += 0x9E3779B97F4A7C15UL;
        ulong z = x;
        z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9UL;
        z = (z ^ (z >> 27)) * 0x94D049BB133111EBUL;
        return z ^ (z >> 31);
    }
}
