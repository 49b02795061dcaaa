using System;
using System.Collections.Generic;
using System.Globalization;
using System.Linq;
using System.Text;
using static TorchSharp.torch;

namespace RnaLm.Structure;

/// <summary>
/// Converts between base-pairing probability maps, base-pair lists and dot-bracket strings.
/// <para>
/// Notation: <c>.</c> is an unpaired base; a pair uses one bracket type. Nested pairs use <c>()</c>; a pair that
/// crosses a pair already placed with <c>()</c> (a pseudoknot) uses <c>[]</c>, one that also crosses a placed
/// <c>[]</c> pair uses <c>{}</c>, then <c>&lt;&gt;</c>. Beyond those four layers the extended notation continues with
/// letter pairs <c>Aa</c>, <c>Bb</c>, ..., <c>Zz</c> (upper case opens, lower case closes), 30 layers in all.
/// </para>
/// <para>
/// Positions in returned pairs are 0-based; positions in error messages are 1-based and say so.
/// </para>
/// </summary>
public static class DotBracket
{
    /// <summary>The character of an unpaired base.</summary>
    public const char Unpaired = '.';

    /// <summary>Opening characters by layer: <c>([{&lt;</c>, then <c>A</c>..<c>Z</c>.</summary>
    private static readonly string Openers = "([{<" + new string(Enumerable.Range('A', 26).Select(c => (char)c).ToArray());

    /// <summary>Closing characters by layer: <c>)]}&gt;</c>, then <c>a</c>..<c>z</c>.</summary>
    private static readonly string Closers = ")]}>" + new string(Enumerable.Range('a', 26).Select(c => (char)c).ToArray());

    /// <summary>How many bracket layers the notation has (4 bracket types plus 26 letter pairs).</summary>
    public static int MaxLayers => Openers.Length;

    /// <summary>
    /// The dot-bracket string of a pairing-probability map: <see cref="SelectPairs(float[,], double)"/> followed by
    /// <see cref="FromPairs"/>. The result has one character per row of the map.
    /// </summary>
    /// <param name="probabilities">[L, L] pairing probabilities (row i, column j = bases i and j pair).</param>
    /// <param name="threshold">The smallest probability that makes a pair (inclusive).</param>
    /// <exception cref="ArgumentException">The map is not square, holds NaN, or the threshold is NaN.</exception>
    public static string FromContactMap(float[,] probabilities, double threshold)
    {
        ArgumentNullException.ThrowIfNull(probabilities);
        return FromPairs(probabilities.GetLength(0), SelectPairs(probabilities, threshold));
    }

    /// <summary>
    /// The dot-bracket string of a pairing-probability tensor, e.g. one row of a structure model's
    /// <c>ContactMap</c>. The tensor may live on any device and have any floating type.
    /// </summary>
    /// <param name="probabilities">[L, L] or [L, L, 1] pairing probabilities.</param>
    /// <param name="threshold">The smallest probability that makes a pair (inclusive).</param>
    /// <exception cref="ArgumentException">The tensor has another shape, holds NaN, or the threshold is NaN.</exception>
    public static string FromContactMap(Tensor probabilities, double threshold) =>
        FromContactMap(ToMatrix(probabilities), threshold);

    /// <summary>
    /// Chooses base pairs from a pairing-probability map. Bases i &lt; j are a candidate pair when their score
    /// <c>(p[i,j] + p[j,i]) / 2</c> (just <c>p[i,j]</c> for the symmetric maps structure heads produce) is at least
    /// <paramref name="threshold"/>; the diagonal is ignored. Conflicts are resolved greedily: candidates are taken
    /// in order of descending score (ties: smaller i, then smaller j first) and a candidate is kept only when
    /// neither of its bases is already paired, so every base pairs at most once and a base always keeps its most
    /// probable partner among those still free.
    /// </summary>
    /// <param name="probabilities">[L, L] pairing probabilities.</param>
    /// <param name="threshold">The smallest score that makes a pair (inclusive).</param>
    /// <returns>The chosen pairs (I &lt; J), ordered by I.</returns>
    /// <exception cref="ArgumentException">The map is not square, holds NaN (the message gives the position), or the
    /// threshold is NaN.</exception>
    public static IReadOnlyList<(int I, int J)> SelectPairs(float[,] probabilities, double threshold)
    {
        ArgumentNullException.ThrowIfNull(probabilities);
        if (double.IsNaN(threshold))
        {
            throw new ArgumentException("The pairing threshold is NaN.", nameof(threshold));
        }
        int length = probabilities.GetLength(0);
        if (probabilities.GetLength(1) != length)
        {
            throw new ArgumentException(
                $"A contact map must be square; this one is {length} x {probabilities.GetLength(1)}.", nameof(probabilities));
        }

        var candidates = new List<(double Score, int I, int J)>();
        for (int i = 0; i < length; i++)
        {
            for (int j = i + 1; j < length; j++)
            {
                float upper = probabilities[i, j], lower = probabilities[j, i];
                if (float.IsNaN(upper) || float.IsNaN(lower))
                {
                    var (row, column) = float.IsNaN(upper) ? (i, j) : (j, i);
                    throw new ArgumentException(string.Create(CultureInfo.InvariantCulture,
                        $"The contact map holds NaN at row {row + 1}, column {column + 1} (1-based)."), nameof(probabilities));
                }
                double score = ((double)upper + lower) / 2;
                if (score >= threshold)
                {
                    candidates.Add((score, i, j));
                }
            }
        }
        candidates.Sort((a, b) => a.Score != b.Score ? b.Score.CompareTo(a.Score) : a.I != b.I ? a.I.CompareTo(b.I) : a.J.CompareTo(b.J));

        var paired = new bool[length];
        var pairs = new List<(int I, int J)>();
        foreach (var (_, i, j) in candidates)
        {
            if (paired[i] || paired[j]) continue;
            paired[i] = paired[j] = true;
            pairs.Add((i, j));
        }
        pairs.Sort((a, b) => a.I.CompareTo(b.I));
        return pairs;
    }

    /// <summary>
    /// Writes base pairs as a dot-bracket string of <paramref name="length"/> characters. Pairs are placed in order
    /// of their opening (5') position; each takes the first layer (<c>()</c>, <c>[]</c>, <c>{}</c>, <c>&lt;&gt;</c>,
    /// <c>Aa</c>, ...) in which it crosses no pair already placed, so a nested structure uses only <c>()</c> and
    /// <see cref="Pairs"/> of the result gives the same pairs back.
    /// </summary>
    /// <param name="length">The number of bases.</param>
    /// <param name="pairs">Pairs of 0-based positions, in any order and either orientation.</param>
    /// <exception cref="ArgumentException">A position is outside [0, length), a base pairs with itself or appears in two
    /// pairs, or the pairs need more than <see cref="MaxLayers"/> layers.</exception>
    public static string FromPairs(int length, IEnumerable<(int I, int J)> pairs)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(length);
        ArgumentNullException.ThrowIfNull(pairs);
        var partner = new int[length];
        Array.Fill(partner, -1);
        var ordered = new List<(int I, int J)>();
        foreach (var (first, second) in pairs)
        {
            var (i, j) = first < second ? (first, second) : (second, first);
            if (i < 0 || j >= length)
            {
                throw new ArgumentException(
                    $"Pair ({first}, {second}) is outside a structure of {length} bases (positions are 0-based).", nameof(pairs));
            }
            if (i == j)
            {
                throw new ArgumentException($"Pair ({first}, {second}) pairs base {i} with itself.", nameof(pairs));
            }
            foreach (int position in new[] { i, j })
            {
                if (partner[position] >= 0)
                {
                    throw new ArgumentException(
                        $"Base {position} is in pair ({i}, {j}) and also paired with base {partner[position]} (positions are 0-based).",
                        nameof(pairs));
                }
            }
            partner[i] = j;
            partner[j] = i;
            ordered.Add((i, j));
        }
        ordered.Sort((a, b) => a.I.CompareTo(b.I));

        var text = new StringBuilder(length).Append(Unpaired, length);
        // Per layer, the pairs placed so far that are still open at the current position, innermost last. Within a
        // layer they are nested, so a new pair (i, j) crosses none of them exactly when the innermost one closes after j.
        var open = new List<Stack<(int I, int J)>>();
        foreach (var (i, j) in ordered)
        {
            int layer = 0;
            for (; layer < open.Count; layer++)
            {
                var stack = open[layer];
                while (stack.Count > 0 && stack.Peek().J < i) stack.Pop();
                if (stack.Count == 0 || stack.Peek().J > j) break;
            }
            if (layer == MaxLayers)
            {
                throw new ArgumentException(
                    $"Pair ({i}, {j}) crosses pairs in all {MaxLayers} bracket layers of the dot-bracket notation (positions are 0-based).",
                    nameof(pairs));
            }
            if (layer == open.Count) open.Add(new Stack<(int I, int J)>());
            open[layer].Push((i, j));
            text[i] = Openers[layer];
            text[j] = Closers[layer];
        }
        return text.ToString();
    }

    /// <summary>
    /// Parses a dot-bracket string into base pairs. Understands <c>.</c>, the four bracket types <c>()</c>,
    /// <c>[]</c>, <c>{}</c>, <c>&lt;&gt;</c> and the letter pairs <c>Aa</c>..<c>Zz</c>; each type is matched
    /// independently, so pseudoknots written with different types are fine.
    /// </summary>
    /// <param name="dotBracket">The structure, e.g. <c>((..[[..))..]]</c>.</param>
    /// <returns>The pairs (I &lt; J, 0-based), ordered by I.</returns>
    /// <exception cref="FormatException">An unknown character, a closing bracket with no opening one, or an opening
    /// bracket that is never closed; the message gives the character and its 1-based position.</exception>
    public static IReadOnlyList<(int I, int J)> Pairs(string dotBracket)
    {
        ArgumentNullException.ThrowIfNull(dotBracket);
        var open = new Stack<int>[Openers.Length];
        var pairs = new List<(int I, int J)>();
        for (int position = 0; position < dotBracket.Length; position++)
        {
            char c = dotBracket[position];
            if (c == Unpaired) continue;
            int layer = Openers.IndexOf(c, StringComparison.Ordinal);
            if (layer >= 0)
            {
                (open[layer] ??= new Stack<int>()).Push(position);
                continue;
            }
            layer = Closers.IndexOf(c, StringComparison.Ordinal);
            if (layer < 0)
            {
                throw new FormatException(
                    $"Dot-bracket: unknown character '{c}' at position {position + 1} (1-based); expected '.', one of ()[]{{}}<> or a letter pair Aa..Zz.");
            }
            if (open[layer] is not { Count: > 0 } stack)
            {
                throw new FormatException(
                    $"Dot-bracket: unbalanced '{c}' at position {position + 1} (1-based) closes no '{Openers[layer]}'.");
            }
            pairs.Add((stack.Pop(), position));
        }

        int firstUnclosed = -1;
        foreach (var stack in open)
        {
            if (stack is { Count: > 0 })
            {
                int earliest = stack.Min();
                if (firstUnclosed < 0 || earliest < firstUnclosed) firstUnclosed = earliest;
            }
        }
        if (firstUnclosed >= 0)
        {
            char c = dotBracket[firstUnclosed];
            throw new FormatException(
                $"Dot-bracket: unbalanced '{c}' at position {firstUnclosed + 1} (1-based) is never closed by '{Closers[Openers.IndexOf(c, StringComparison.Ordinal)]}'.");
        }
        pairs.Sort((a, b) => a.I.CompareTo(b.I));
        return pairs;
    }

    /// <summary>Copies an [L, L] or [L, L, 1] tensor to a float matrix on the CPU.</summary>
    private static float[,] ToMatrix(Tensor probabilities)
    {
        ArgumentNullException.ThrowIfNull(probabilities);
        long[] shape = probabilities.shape;
        bool square = shape.Length is 2 or 3 && shape[0] == shape[1] && (shape.Length == 2 || shape[2] == 1);
        if (!square)
        {
            throw new ArgumentException(
                $"A contact map tensor must be [L, L] or [L, L, 1]; this one is [{string.Join(", ", shape)}].", nameof(probabilities));
        }
        int length = checked((int)shape[0]);
        using var scope = NewDisposeScope();
        float[] values = probabilities.reshape(length, length).to_type(ScalarType.Float32).cpu().contiguous().data<float>().ToArray();
        var matrix = new float[length, length];
        Buffer.BlockCopy(values, 0, matrix, 0, values.Length * sizeof(float));
        return matrix;
    }
}
