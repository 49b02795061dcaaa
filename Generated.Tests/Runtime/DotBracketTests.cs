using System;
using System.Collections.Generic;
using System.Linq;
using RnaLm.Structure;
using Xunit;
using static TorchSharp.torch;

namespace RnaLm.Tests.Runtime;

/// <summary>
/// <see cref="DotBracket"/>: pair selection from contact maps (threshold, greedy conflict resolution), bracket layers
/// for pseudoknots, parsing with positioned errors, and round trips between the three forms.
/// </summary>
public sealed class DotBracketTests
{
    /// <summary>A symmetric L x L map with the given pair probabilities and zeros elsewhere.</summary>
    private static float[,] Map(int length, params (int I, int J, float P)[] entries)
    {
        var map = new float[length, length];
        foreach (var (i, j, p) in entries)
        {
            map[i, j] = p;
            map[j, i] = p;
        }
        return map;
    }

    private static (int I, int J)[] P(params (int I, int J)[] pairs) => pairs;

    [Fact]
    public void NestedPairsUseParentheses()
    {
        var map = Map(10, (0, 9, 0.9f), (1, 8, 0.8f), (2, 7, 0.95f), (4, 5, 0.1f));
        Assert.Equal("(((....)))", DotBracket.FromContactMap(map, 0.5));
        Assert.Equal("(((.().)))", DotBracket.FromContactMap(map, 0.05));
        Assert.Equal("..........", DotBracket.FromContactMap(map, 0.99));
    }

    [Fact]
    public void PseudoknotsUseSuccessiveBracketTypes()
    {
        // Two crossing stems: the one that opens first keeps (), the other takes [].
        Assert.Equal("((.[[)).]]", DotBracket.FromPairs(10, P((0, 6), (1, 5), (3, 9), (4, 8))));
        // The first bracket type is chosen by position, not by probability.
        var map = Map(10, (0, 6, 0.6f), (1, 5, 0.6f), (3, 9, 0.99f), (4, 8, 0.99f));
        Assert.Equal("((.[[)).]]", DotBracket.FromContactMap(map, 0.5));
        // Each pair crosses all the earlier ones: (), [], {}, <>, then the letter pairs.
        Assert.Equal("([{<)]}>", DotBracket.FromPairs(8, P((0, 4), (1, 5), (2, 6), (3, 7))));
        Assert.Equal("([{<A)]}>a", DotBracket.FromPairs(10, P((0, 5), (1, 6), (2, 7), (3, 8), (4, 9))));
        // A pair nested inside a pseudoknotted stem goes back to the lowest type it does not cross.
        Assert.Equal("(([[))(.)]]", DotBracket.FromPairs(11, P((0, 5), (1, 4), (2, 10), (3, 9), (6, 8))));
        // A pair placed later in (): nested pairs after a crossing one reuse ().
        Assert.Equal("(..[..)..]..()", DotBracket.FromPairs(14, P((0, 6), (3, 9), (12, 13))));
    }

    [Fact]
    public void MoreCrossingLayersThanTheNotationHasIsAnError()
    {
        int n = DotBracket.MaxLayers;
        Assert.Equal(30, n);
        var fits = Enumerable.Range(0, n).Select(k => (k, k + n));
        string text = DotBracket.FromPairs(2 * n, fits);
        Assert.Equal("([{<ABCDEFGHIJKLMNOPQRSTUVWXYZ)]}>abcdefghijklmnopqrstuvwxyz", text);
        Assert.Equal(fits, DotBracket.Pairs(text));

        var tooMany = Enumerable.Range(0, n + 1).Select(k => (k, k + n + 1));
        var e = Assert.Throws<ArgumentException>(() => DotBracket.FromPairs(2 * (n + 1), tooMany));
        Assert.Contains("Pair (30, 61)", e.Message);
        Assert.Contains("all 30 bracket layers", e.Message);
    }

    [Fact]
    public void ConflictsAreResolvedGreedilyByDescendingProbability()
    {
        // Base 0 prefers 5 (0.9) over 6 (0.8); base 6 then pairs with 1 (0.7) although 1-5 (0.85) beats 1-6:
        // 5 is already taken by the time 1-5 is considered.
        var map = Map(8, (0, 5, 0.9f), (0, 6, 0.8f), (1, 5, 0.85f), (1, 6, 0.7f));
        Assert.Equal(P((0, 5), (1, 6)), DotBracket.SelectPairs(map, 0.5));
        Assert.Equal("([...)].", DotBracket.FromContactMap(map, 0.5));

        // A base never pairs twice, even when all its candidates pass the threshold.
        var star = Map(6, (0, 1, 0.6f), (0, 2, 0.7f), (0, 3, 0.8f), (0, 4, 0.9f), (0, 5, 0.95f));
        Assert.Equal(P((0, 5)), DotBracket.SelectPairs(star, 0.5));

        // Equal probabilities: the pair with the smaller first base, then the smaller second base, wins.
        var tie = Map(6, (1, 5, 0.6f), (0, 5, 0.6f), (0, 4, 0.6f));
        Assert.Equal(P((0, 4), (1, 5)), DotBracket.SelectPairs(tie, 0.5));
        var tie2 = Map(6, (2, 5, 0.6f), (0, 5, 0.6f));
        Assert.Equal(P((0, 5)), DotBracket.SelectPairs(tie2, 0.5));
    }

    [Fact]
    public void TheThresholdIsInclusive()
    {
        var map = Map(4, (0, 3, 0.5f), (1, 2, 0.49999997f));
        Assert.Equal("(..)", DotBracket.FromContactMap(map, 0.5));
        Assert.Equal("....", DotBracket.FromContactMap(map, 0.5000001));
        Assert.Equal("(())", DotBracket.FromContactMap(map, 0.49999997f));
        Assert.Equal("(())", DotBracket.FromContactMap(Map(4, (0, 3, 1f), (1, 2, 1f)), 1.0));
    }

    [Fact]
    public void AsymmetricMapsUseTheMeanOfBothEntriesAndTheDiagonalIsIgnored()
    {
        var map = new float[4, 4];
        map[0, 3] = 0.75f; // mean with map[3, 0] = 0.25 is 0.5
        map[3, 0] = 0.25f;
        map[1, 2] = 0.8f; // mean 0.4
        for (int i = 0; i < 4; i++) map[i, i] = 1f;
        Assert.Equal(P((0, 3)), DotBracket.SelectPairs(map, 0.5));
        Assert.Empty(DotBracket.SelectPairs(map, 0.51));
    }

    [Fact]
    public void InvalidMapsAndPairsAreErrors()
    {
        var nan = Map(5, (0, 4, 0.9f));
        nan[3, 1] = float.NaN;
        var e = Assert.Throws<ArgumentException>(() => DotBracket.FromContactMap(nan, 0.5));
        Assert.Contains("NaN at row 4, column 2", e.Message);

        Assert.Contains("3 x 4", Assert.Throws<ArgumentException>(() => DotBracket.FromContactMap(new float[3, 4], 0.5)).Message);
        Assert.Throws<ArgumentException>(() => DotBracket.SelectPairs(new float[2, 2], double.NaN));

        Assert.Contains("outside a structure of 4 bases", Assert.Throws<ArgumentException>(() => DotBracket.FromPairs(4, P((0, 4)))).Message);
        Assert.Contains("with itself", Assert.Throws<ArgumentException>(() => DotBracket.FromPairs(4, P((2, 2)))).Message);
        var twice = Assert.Throws<ArgumentException>(() => DotBracket.FromPairs(6, P((0, 5), (5, 2))));
        Assert.Contains("Base 5", twice.Message);
        Assert.Contains("base 0", twice.Message);
    }

    [Fact]
    public void TensorMapsGiveTheSameStructureAsArrays()
    {
        var map = Map(10, (0, 6, 0.6f), (1, 5, 0.7f), (3, 9, 0.8f), (4, 8, 0.9f));
        float[] flat = map.Cast<float>().ToArray();
        using var square = tensor(flat, new long[] { 10, 10 });
        using var channel = square.unsqueeze(-1);
        using var doubles = square.to_type(ScalarType.Float64);
        string expected = DotBracket.FromContactMap(map, 0.5);
        Assert.Equal("((.[[)).]]", expected);
        Assert.Equal(expected, DotBracket.FromContactMap(square, 0.5));
        Assert.Equal(expected, DotBracket.FromContactMap(channel, 0.5));
        Assert.Equal(expected, DotBracket.FromContactMap(doubles, 0.5));
        // The transpose of a symmetric map is the same map, even though it is not contiguous.
        using var transposed = square.t();
        Assert.Equal(expected, DotBracket.FromContactMap(transposed, 0.5));

        using var batched = channel.unsqueeze(0);
        Assert.Contains("[1, 10, 10, 1]", Assert.Throws<ArgumentException>(() => DotBracket.FromContactMap(batched, 0.5)).Message);
        using var rectangle = zeros(3, 4);
        Assert.Throws<ArgumentException>(() => DotBracket.FromContactMap(rectangle, 0.5));
    }

    [Fact]
    public void PairsParsesEveryBracketType()
    {
        Assert.Empty(DotBracket.Pairs(""));
        Assert.Empty(DotBracket.Pairs("...."));
        Assert.Equal(P((0, 9), (1, 8), (2, 7)), DotBracket.Pairs("(((....)))"));
        Assert.Equal(P((0, 6), (1, 5), (3, 9), (4, 8)), DotBracket.Pairs("((.[[)).]]"));
        Assert.Equal(P((0, 4), (1, 5), (2, 6), (3, 7)), DotBracket.Pairs("([{<)]}>"));
        Assert.Equal(P((0, 3), (1, 2), (4, 7), (5, 6)), DotBracket.Pairs("<{}>[()]"));
        Assert.Equal(P((0, 2), (1, 3)), DotBracket.Pairs("ABab"));
    }

    [Theory]
    [InlineData("(()", "'(' at position 1 (1-based) is never closed")]
    [InlineData("..(..[..)", "'[' at position 6 (1-based) is never closed")]
    [InlineData("())", "')' at position 3 (1-based) closes no '('")]
    [InlineData("(.]", "']' at position 3 (1-based) closes no '['")]
    [InlineData("((..>))", "'>' at position 5 (1-based) closes no '<'")]
    [InlineData("..a", "'a' at position 3 (1-based) closes no 'A'")]
    [InlineData("(.#.)", "unknown character '#' at position 3 (1-based)")]
    [InlineData("(-)", "unknown character '-' at position 2 (1-based)")]
    public void UnbalancedOrUnknownInputNamesThePosition(string dotBracket, string message)
    {
        var e = Assert.Throws<FormatException>(() => DotBracket.Pairs(dotBracket));
        Assert.Contains(message, e.Message);
    }

    [Theory]
    [InlineData("")]
    [InlineData("((((...))))")]
    [InlineData("((.[[)).]]")]
    [InlineData("(([[))(.)]]")]
    [InlineData("((..[[..{{..))..]]..}}..((..))")]
    [InlineData("([{<A)]}>a")]
    public void CanonicalStructuresRoundTripThroughPairs(string dotBracket)
    {
        Assert.Equal(dotBracket, DotBracket.FromPairs(dotBracket.Length, DotBracket.Pairs(dotBracket)));
    }

    [Fact]
    public void RandomContactMapsRoundTripThroughPairs()
    {
        var random = new Random(20240611);
        for (int trial = 0; trial < 200; trial++)
        {
            int length = random.Next(0, 60);
            var map = new float[length, length];
            for (int i = 0; i < length; i++)
            {
                for (int j = i; j < length; j++)
                {
                    float p = random.NextSingle();
                    map[i, j] = p;
                    map[j, i] = p;
                }
            }
            double threshold = 0.3 + 0.7 * random.NextDouble();
            var pairs = DotBracket.SelectPairs(map, threshold);
            string structure = DotBracket.FromContactMap(map, threshold);
            Assert.Equal(length, structure.Length);
            Assert.Equal(pairs, DotBracket.Pairs(structure));
            Assert.Equal(structure, DotBracket.FromPairs(length, DotBracket.Pairs(structure)));

            var partners = new HashSet<int>();
            foreach (var (i, j) in pairs)
            {
                Assert.True(i < j);
                Assert.True(map[i, j] >= threshold, $"trial {trial}: pair ({i}, {j}) has {map[i, j]} < {threshold}");
                Assert.True(partners.Add(i) && partners.Add(j), $"trial {trial}: a base of ({i}, {j}) pairs twice");
            }
            // Greedy maximality: any two unpaired bases are below the threshold.
            for (int i = 0; i < length; i++)
            {
                for (int j = i + 1; j < length; j++)
                {
                    if (!partners.Contains(i) && !partners.Contains(j)) Assert.True(map[i, j] < threshold);
                }
            }
        }
    }
}
