using System.Collections.Generic;
using System.IO;
using System.Linq;
using System.Text.Json;
using static TorchSharp.torch;

namespace RnaLm.Tests.Parity;

/// <summary>One case of a model fixture's cases.json.</summary>
public sealed record FixtureCase(string Name, IReadOnlyList<string> Sequences, bool Padded, long[][] InputIds, long[][] AttentionMask)
{
    public Tensor InputIdsTensor() => tensor(InputIds.SelectMany(r => r).ToArray(), new long[] { InputIds.Length, InputIds[0].Length });

    public Tensor AttentionMaskTensor() => tensor(AttentionMask.SelectMany(r => r).ToArray(), new long[] { AttentionMask.Length, AttentionMask[0].Length });

    public static IReadOnlyList<FixtureCase> Load(string modelDir)
    {
        using var doc = JsonDocument.Parse(File.ReadAllText(Path.Combine(modelDir, "cases.json")));
        return doc.RootElement.EnumerateArray().Select(c => new FixtureCase(
            c.GetProperty("name").GetString()!,
            c.GetProperty("sequences").EnumerateArray().Select(s => s.GetString()!).ToList(),
            c.GetProperty("padded").GetBoolean(),
            c.GetProperty("input_ids").EnumerateArray().Select(r => r.EnumerateArray().Select(x => x.GetInt64()).ToArray()).ToArray(),
            c.GetProperty("attention_mask").EnumerateArray().Select(r => r.EnumerateArray().Select(x => x.GetInt64()).ToArray()).ToArray())).ToList();
    }
}
