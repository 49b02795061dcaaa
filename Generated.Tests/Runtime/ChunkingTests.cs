using System;
using System.IO;
using System.Linq;
using RnaLm.Checkpoints;
using RnaLm.Inference;
using RnaLm.Models;
using TorchSharp;
using Xunit;
using static TorchSharp.torch;

namespace RnaLm.Tests.Runtime;

public class ChunkingTests
{
    [Fact]
    public void WindowsCoverEveryTokenFitTheModelAndOverlapConsecutively()
    {
        foreach (int maxContent in new[] { 1, 2, 5, 16, 510 })
        {
            foreach (int overlap in new[] { 0, 1, maxContent / 2, maxContent - 1 }.Where(o => o >= 0 && o < maxContent).Distinct())
            {
                foreach (int length in new[] { 1, 2, maxContent - 1, maxContent, maxContent + 1, 2 * maxContent, 3 * maxContent + 7, 2000 }.Where(l => l >= 1))
                {
                    var windows = Chunking.Plan(length, maxContent, overlap);
                    string at = $"length {length}, window {maxContent}, overlap {overlap}";
                    Assert.True(windows[0].Start == 0, at);
                    Assert.True(windows[^1].End == length, at);
                    var covered = new bool[length];
                    for (int w = 0; w < windows.Count; w++)
                    {
                        Assert.True(windows[w].Length <= maxContent && windows[w].Length >= 1, at);
                        Assert.True(windows[w].Start >= 0 && windows[w].End <= length, at);
                        for (int i = windows[w].Start; i < windows[w].End; i++) covered[i] = true;
                        if (w > 0)
                        {
                            Assert.True(windows[w].Start > windows[w - 1].Start, at);
                            Assert.True(windows[w - 1].End - windows[w].Start >= overlap, $"{at}: windows {w - 1} and {w} overlap too little");
                        }
                    }
                    Assert.All(covered, c => Assert.True(c, at));
                    if (length <= maxContent) Assert.Single(windows);
                    else Assert.All(windows, window => Assert.Equal(maxContent, window.Length));
                }
            }
        }
    }

    [Fact]
    public void PlanRefusesAnOverlapAsLongAsTheWindow()
    {
        Assert.Throws<ArgumentOutOfRangeException>(() => Chunking.Plan(100, 10, 10));
        Assert.Throws<ArgumentOutOfRangeException>(() => Chunking.Plan(100, 10, -1));
        Assert.Throws<ArgumentException>(() => Chunking.Split([1, 6, 2], 1, 1, maxTokens: 2, overlap: 0));
    }

    [Fact]
    public void EveryWindowRepeatsTheSpecialTokensAroundItsSlice()
    {
        int[] ids = [1, 10, 11, 12, 13, 14, 15, 16, 2]; // <cls> 7 content tokens <eos>
        var record = Chunking.Split(ids, leading: 1, trailing: 1, maxTokens: 5, overlap: 1);
        Assert.Equal(7, record.ContentLength);
        Assert.Equal([new TokenWindow(0, 3), new TokenWindow(2, 3), new TokenWindow(4, 3)], record.Windows);
        Assert.Equal([1, 10, 11, 12, 2], record.WindowIds[0]);
        Assert.Equal([1, 12, 13, 14, 2], record.WindowIds[1]);
        Assert.Equal([1, 14, 15, 16, 2], record.WindowIds[2]);
        Assert.All(record.WindowIds, w => Assert.True(w.Length <= 5));
    }

    /// <summary>
    /// An output that depends only on the token at each position (a lookup table) sees the same context in a window as
    /// in the whole record, so merging the windows must give exactly the unsplit output, whatever the overlap.
    /// </summary>
    [Fact]
    public void MergingContextFreeOutputsGivesTheUnsplitOutput()
    {
        var table = torch.randn(20, 4, generator: new torch.Generator(7));
        var random = new Random(3);
        foreach (int overlap in new[] { 0, 2, 5 })
        {
            for (int trial = 0; trial < 10; trial++)
            {
                int content = random.Next(1, 40);
                int[] ids = [1, .. Enumerable.Range(0, content).Select(_ => random.Next(4, 20)), 2];
                var record = Chunking.Split(ids, 1, 1, maxTokens: 8, overlap: overlap);
                var outputs = record.WindowIds.Select(w => table.index(torch.tensor(w.Select(i => (long)i).ToArray()))).ToList();
                using var merged = Chunking.MergeTokens(record, outputs);
                using var whole = table.index(torch.tensor(ids.Select(i => (long)i).ToArray()));
                Assert.Equal(whole.shape, merged.shape);
                Assert.True(merged.allclose(whole, rtol: 1e-6, atol: 1e-6), $"content {content}, overlap {overlap}");
            }
        }
    }

    [Fact]
    public void OverlappingTokensAreTheMeanOfTheWindowsThatCoverThem()
    {
        int[] ids = [1, 10, 11, 12, 13, 14, 2];
        var record = Chunking.Split(ids, 1, 1, maxTokens: 5, overlap: 1); // windows [0,3) and [2,5)
        var outputs = record.Windows.Select((w, index) => torch.full(new long[] { w.Length + 2, 1 }, (float)index)).ToList();
        using var merged = Chunking.MergeTokens(record, outputs);
        float[] values = merged.reshape(-1).data<float>().ToArray();
        // <cls>: mean over both windows; content 0,1 only in window 0; content 2 in both; 3,4 only in window 1; <eos> both.
        Assert.Equal([0.5f, 0f, 0f, 0.5f, 1f, 1f, 0.5f], values);
    }

    [Fact]
    public void WindowLevelValuesAreAggregatedWithEveryTokenWeighingTheSame()
    {
        int[] ids = [1, .. Enumerable.Range(10, 10), 2];
        var record = Chunking.Split(ids, 1, 1, maxTokens: 6, overlap: 2); // windows [0,4), [2,6), [4,8), [6,10)
        double[] weights = Chunking.WindowWeights(record);
        Assert.Equal(1.0, weights.Sum(), 12);
        // The first and last windows hold 2 tokens of their own and 2 shared ones; the middle ones share all 4.
        Assert.Equal([0.3, 0.2, 0.2, 0.3], weights.Select(w => Math.Round(w, 12)).ToArray());

        using var same = torch.tensor(new float[] { 1, 2, 3, 1, 2, 3, 1, 2, 3, 1, 2, 3 }).reshape(4, 3);
        using var aggregated = Chunking.AggregateWindows(record, same);
        Assert.Equal([1f, 2f, 3f], aggregated.data<float>().ToArray());

        using var different = torch.tensor(new float[] { 10, 0, 0, 0 }).reshape(4, 1);
        using var weighted = Chunking.AggregateWindows(record, different);
        Assert.Equal(3f, weighted.item<float>(), 5);
    }

    /// <summary>
    /// The built-in model adds positions by rotary attention, so its embedding output (hidden state 0) depends on the
    /// token alone: windows see the same context for it, and the merged hidden state 0 equals the unsplit one. Its last
    /// hidden state is the same too for a record that fits one window. Both through the real tokenizer and model.
    /// </summary>
    [Fact]
    public void ARealModelsContextFreeLayerMergesToItsUnsplitOutput()
    {
        using var checkpoint = Checkpoint.Load(Path.Combine(AppContext.BaseDirectory, "models", "rnalm-mini"), ModelCatalog.Registry);
        var model = checkpoint.Model;
        model.Module.eval();
        using var inference = torch.inference_mode();
        const string sequence = "GGUCUCUCUGGUUAGACCAGAUCUGAGCCUGGGAGCUCUCUGGCUAACUAGGGAACCCACUGCUUAAGCCUCAAUAAAGCUUGCCUUGAGUGC";
        int[] ids = checkpoint.Tokenizer.Encode(sequence).InputIds;

        var record = Chunking.Split(ids, 1, 1, maxTokens: 32, overlap: 8);
        Assert.True(record.Windows.Count >= 3);
        var windowStates = record.WindowIds.Select(w =>
        {
            using var input = torch.tensor(w.Select(i => (long)i).ToArray()).unsqueeze(0);
            return model.Backbone.Forward(input, null, OutputRequest.HiddenStates).HiddenStates![0][0];
        }).ToList();
        using var merged = Chunking.MergeTokens(record, windowStates);
        using var wholeInput = torch.tensor(ids.Select(i => (long)i).ToArray()).unsqueeze(0);
        var whole = model.Backbone.Forward(wholeInput, null, OutputRequest.HiddenStates).HiddenStates![0][0];
        Assert.True(merged.allclose(whole, rtol: 1e-5, atol: 1e-5));

        var single = Chunking.Split(ids, 1, 1, maxTokens: ids.Length, overlap: 8);
        Assert.True(single.IsWhole);
        var alone = model.Backbone.Forward(wholeInput).LastHiddenState[0];
        using var mergedAlone = Chunking.MergeTokens(single, [alone]);
        Assert.True(mergedAlone.allclose(alone, rtol: 0, atol: 0));
    }
}
