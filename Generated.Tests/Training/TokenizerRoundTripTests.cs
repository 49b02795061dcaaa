using System;
using System.IO;
using System.Linq;
using RnaLm.Models;
using RnaLm.Tokenization;
using RnaLm.Training;
using Xunit;

namespace RnaLm.Tests.Training;

/// <summary>
/// A saved checkpoint's tokenizer files read back as the same tokenizer for every registered variant: the same
/// options (codons, T/U rewriting, k-mers, specials, length) and the same ids for RNA and DNA text.
/// </summary>
public sealed class TokenizerRoundTripTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("rnalm-tokenizer-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    public static TheoryData<string> Variants()
    {
        var data = new TheoryData<string>();
        foreach (var variant in ModelCatalog.Registry.Variants) data.Add(variant.Name);
        return data;
    }

    [Theory]
    [MemberData(nameof(Variants))]
    public void SavedTokenizerFilesReadBackAsTheSameTokenizer(string name)
    {
        var original = ModelCatalog.Registry.GetVariant(name).CreateTokenizer();
        string folder = Path.Combine(_dir, name);
        Directory.CreateDirectory(folder);
        CheckpointWriter.SaveTokenizer(folder, original);
        var read = RnaTokenizer.FromDirectory(folder);

        Assert.Equal(original.Options, read.Options);
        Assert.Equal(original.Vocabulary.Tokens, read.Vocabulary.Tokens);
        foreach (string text in new[] { "AUGGCAUUU", "atgGCAttt", "ACGUNACGTNAC" })
        {
            Assert.Equal(original.Encode(text).InputIds, read.Encode(text).InputIds);
        }
    }
}
