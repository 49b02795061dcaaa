using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using System.Text;
using RnaLm.IO;

namespace RnaLm.Training;

/// <summary>One training or evaluation record.</summary>
/// <param name="Name">The record name (first word of the header).</param>
/// <param name="Sequence">The sequence text as written.</param>
/// <param name="Structure">The dot-bracket structure (.dbn files), or null.</param>
/// <param name="Label">The class label (FASTA: the last word of the header description, as in nRC), or null.</param>
/// <param name="Source">File and line, for messages.</param>
public sealed record SequenceRecord(string Name, string Sequence, string? Structure, string? Label, string Source);

/// <summary>Which part of a file to use.</summary>
public enum DataSplit
{
    All,
    /// <summary>Records not held out.</summary>
    Train,
    /// <summary>The held-out records (see <see cref="HeldOutSplit"/>).</summary>
    HeldOut,
}

/// <summary>Reads FASTA and dot-bracket files into <see cref="SequenceRecord"/>s.</summary>
public static class SequenceFiles
{
    /// <summary>Whether a path is read as dot-bracket (<c>.dbn</c>, <c>.db</c>, <c>.dot</c>, also with <c>.gz</c>), otherwise FASTA (standard input, <c>-</c>, is FASTA).</summary>
    public static bool IsDotBracket(string path)
    {
        string ext = Path.GetExtension(TextInput.WithoutGzipSuffix(path)).ToLowerInvariant();
        return ext is ".dbn" or ".db" or ".dot";
    }

    /// <summary>Reads every record of a FASTA or dot-bracket file.</summary>
    public static List<SequenceRecord> Read(string path)
    {
        if (IsDotBracket(path))
        {
            return DotBracketReader.Read(path).Select(r => new SequenceRecord(r.Name, r.Sequence, r.Structure, null, $"{path}:{r.Line}")).ToList();
        }
        return FastaReader.Read(path).Select(r => new SequenceRecord(r.Name, r.Sequence, null, LastWord(r.Description), $"{path}:{r.Line}")).ToList();
    }

    /// <summary>Reads a file and keeps one split of it.</summary>
    public static List<SequenceRecord> Read(string path, DataSplit split, double heldOutFraction)
    {
        var records = Read(path);
        return split switch
        {
            DataSplit.All => records,
            DataSplit.Train => records.Where(r => !HeldOutSplit.IsHeldOut(r.Name, heldOutFraction)).ToList(),
            DataSplit.HeldOut => records.Where(r => HeldOutSplit.IsHeldOut(r.Name, heldOutFraction)).ToList(),
            _ => throw new ArgumentOutOfRangeException(nameof(split)),
        };
    }

    private static string? LastWord(string description)
    {
        if (string.IsNullOrWhiteSpace(description)) return null;
        var words = description.Split((char[]?)null, StringSplitOptions.RemoveEmptyEntries);
        return words.Length == 0 ? null : words[^1];
    }
}

/// <summary>
/// A deterministic held-out split by record name: a record is held out when the 64-bit FNV-1a hash of its UTF-8 name,
/// modulo 1,000,000, is below <c>fraction × 1,000,000</c>. It does not depend on file order, seeds or other records.
/// </summary>
public static class HeldOutSplit
{
    public static ulong Hash(string name)
    {
        ArgumentNullException.ThrowIfNull(name);
        ulong hash = 14695981039346656037UL;
        foreach (byte b in Encoding.UTF8.GetBytes(name))
        {
            hash ^= b;
            hash *= 1099511628211UL;
        }
        return hash;
    }

    public static bool IsHeldOut(string name, double fraction)
    {
        if (!(fraction >= 0 && fraction <= 1)) throw new ArgumentOutOfRangeException(nameof(fraction), fraction, "The held-out fraction must be in [0, 1].");
        return Hash(name) % 1_000_000UL < (ulong)Math.Round(fraction * 1_000_000);
    }
}

/// <summary>
/// The order of micro-batches: each epoch permutes the records with a generator derived from (seed, epoch), cuts the
/// permutation into pools of 50 batches, sorts each pool by length (less padding), cuts it into batches of at most
/// <see cref="BatchSize"/> records and, when a token budget is set, at most <see cref="MaxTokens"/> padded tokens
/// (so batches of long sequences hold fewer of them), and shuffles the batches of the epoch. The whole order is a
/// function of the seed, so a resumed run only needs the micro-batch counter.
/// </summary>
public sealed class BatchPlan
{
    private const int PoolBatches = 50;
    private readonly int[] _lengths;
    private readonly long _seed;
    private readonly List<long> _epochStarts = new() { 0 };
    private int _cachedEpoch = -1;
    private int[][] _cached = Array.Empty<int[]>();

    /// <param name="lengths">Token count of every record.</param>
    /// <param name="batchSize">Most records per batch.</param>
    /// <param name="seed">Seed of the order.</param>
    /// <param name="maxTokens">Most padded tokens per batch (records × longest), or null for no limit. A record
    /// longer than the budget forms a batch of its own.</param>
    public BatchPlan(IReadOnlyList<int> lengths, int batchSize, long seed, int? maxTokens = null)
    {
        ArgumentNullException.ThrowIfNull(lengths);
        if (lengths.Count == 0) throw new ArgumentException("There are no records to train on.", nameof(lengths));
        ArgumentOutOfRangeException.ThrowIfLessThan(batchSize, 1);
        if (maxTokens is < 1) throw new ArgumentOutOfRangeException(nameof(maxTokens), maxTokens, "The token budget must be positive.");
        _lengths = lengths.ToArray();
        BatchSize = batchSize;
        MaxTokens = maxTokens;
        _seed = seed;
        BatchesPerEpoch = Epoch(0).Length;
    }

    public int BatchSize { get; }

    public int? MaxTokens { get; }

    /// <summary>Batches of the first epoch (later epochs differ slightly when a token budget is set).</summary>
    public int BatchesPerEpoch { get; }

    /// <summary>The record indices of global micro-batch <paramref name="microBatch"/> (0-based over all epochs).</summary>
    public int[] Batch(long microBatch)
    {
        var (epoch, index) = Locate(microBatch);
        return Epoch(epoch)[index];
    }

    /// <summary>The epoch of a global micro-batch and its index in that epoch.</summary>
    public (int Epoch, int Index) Locate(long microBatch)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(microBatch);
        while (_epochStarts[^1] <= microBatch)
        {
            int epoch = _epochStarts.Count - 1;
            _epochStarts.Add(_epochStarts[^1] + Epoch(epoch).Length);
        }
        int e = _epochStarts.FindLastIndex(start => start <= microBatch);
        return (e, (int)(microBatch - _epochStarts[e]));
    }

    /// <summary>The batches of one epoch, in order.</summary>
    public int[][] Epoch(int epoch)
    {
        if (epoch == _cachedEpoch) return _cached;
        var random = TrainingRandom.For(_seed, TrainingRandom.Streams.DataOrder, epoch);
        int[] order = Enumerable.Range(0, _lengths.Length).ToArray();
        random.Shuffle(order);
        var batches = new List<int[]>();
        int pool = PoolBatches * BatchSize;
        for (int start = 0; start < order.Length; start += pool)
        {
            var slice = order.Skip(start).Take(pool).OrderBy(i => _lengths[i]).ThenBy(i => i).ToArray();
            var current = new List<int>(BatchSize);
            int longest = 0;
            foreach (int record in slice)
            {
                int next = Math.Max(longest, _lengths[record]);
                bool full = current.Count == BatchSize || (MaxTokens is int budget && current.Count > 0 && (long)(current.Count + 1) * next > budget);
                if (full)
                {
                    batches.Add(current.ToArray());
                    current.Clear();
                    next = _lengths[record];
                }
                current.Add(record);
                longest = next;
            }
            if (current.Count > 0) batches.Add(current.ToArray());
        }
        var array = batches.ToArray();
        random.Shuffle(array);
        _cachedEpoch = epoch;
        _cached = array;
        return array;
    }
}
