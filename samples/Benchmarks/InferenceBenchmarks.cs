using System;
using System.Collections.Generic;
using System.Linq;
using BenchmarkDotNet.Attributes;
using RnaLm.Models;
using RnaLm.Tokenization;
using TorchSharp;
using static TorchSharp.torch;

namespace RnaLm.Benchmarks;

/// <summary>Forward passes of generated models at their published sizes (random weights; speed does not depend on values).</summary>
[MemoryDiagnoser]
public class ForwardBenchmarks
{
    private IRnaMaskedLM _model = null!;
    private Tensor _ids = null!;
    private Tensor _mask = null!;

    /// <summary>Registered model name.</summary>
    [Params("splicebert", "ernierna", "rnaernie")]
    public string Model { get; set; } = "splicebert";

    /// <summary>Tokens per sequence (special tokens included).</summary>
    [Params(128, 512)]
    public int Length { get; set; }

    /// <summary>Sequences per batch.</summary>
    [Params(8)]
    public int Batch { get; set; }

    [GlobalSetup]
    public void Setup()
    {
        torch.set_num_threads(Environment.ProcessorCount);
        torch.manual_seed(0);
        var variant = ModelCatalog.Registry.GetVariant(Model);
        _model = variant.Family.CreatePreTrainingModel(variant.Config);
        _model.Module.eval();
        _ids = randint(6, 10, new long[] { Batch, Length }, dtype: ScalarType.Int64);
        _mask = ones(Batch, Length, ScalarType.Int64);
    }

    [GlobalCleanup]
    public void Cleanup()
    {
        _model.Module.Dispose();
        _ids.Dispose();
        _mask.Dispose();
    }

    /// <summary>Backbone plus MLM head under inference mode.</summary>
    [Benchmark]
    public float MaskedLMForward()
    {
        using var inference = inference_mode();
        using var output = _model.Forward(_ids, _mask);
        return output.Logits[0, 0, 0].item<float>();
    }
}

/// <summary>Tokenizer throughput on realistic ncRNA lengths.</summary>
[MemoryDiagnoser]
public class TokenizerBenchmarks
{
    private readonly List<string> _sequences = new();
    private RnaTokenizer _tokenizer = null!;

    /// <summary>k of the k-mer tokenizer.</summary>
    [Params(1, 3)]
    public int Nmers { get; set; }

    [GlobalSetup]
    public void Setup()
    {
        var random = new Random(1);
        const string bases = "ACGUacgtN";
        for (int i = 0; i < 256; i++)
        {
            _sequences.Add(new string(Enumerable.Range(0, 200 + random.Next(300)).Select(_ => bases[random.Next(bases.Length)]).ToArray()));
        }
        _tokenizer = Nmers == 1
            ? new RnaTokenizer(Vocabulary.RnaStandard28(), new TokenizerOptions())
            : new RnaTokenizer(Vocabulary.RnaKmer(3), new TokenizerOptions { Nmers = 3 });
    }

    /// <summary>256 sequences of 200–500 nt, padded to the longest.</summary>
    [Benchmark]
    public int EncodeBatch() => _tokenizer.EncodeBatch(_sequences, new EncodeOptions { Padding = PaddingStrategy.Longest }).SequenceLength;
}
