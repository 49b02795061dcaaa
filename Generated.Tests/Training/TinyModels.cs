using System.Collections.Generic;
using System.Linq;
using RnaLm.Models;
using RnaLm.Tokenization;
using RnaLm.Training;

namespace RnaLm.Tests.Training;

/// <summary>Tiny rnalm-mini configurations and real sequences for fast training tests.</summary>
internal static class TinyModels
{
    public static IModelFamily Family => RnaLmMiniFamily.Instance;

    public static IModelConfig Config(int hidden = 16, int layers = 1, int heads = 2, int intermediate = 32, int maxPositions = 64, double? dropout = null) =>
        ModelSetup.WithOverrides(Family, RnaLmMiniVariants.RnaLmMini, new ConfigOverrides
        {
            HiddenSize = hidden,
            NumHiddenLayers = layers,
            NumAttentionHeads = heads,
            IntermediateSize = intermediate,
            MaxPositionEmbeddings = maxPositions,
            HiddenDropout = dropout,
            AttentionDropout = dropout,
        });

    public static RnaTokenizer Tokenizer(IModelConfig config)
    {
        var tokenizer = RnaLmMiniVariants.CreateRnaLmMiniTokenizer();
        return tokenizer.With(tokenizer.Options with { ModelMaxLength = config.MaxPositionEmbeddings });
    }

    /// <summary>A new pretraining model with BERT initialisation from <paramref name="seed"/>.</summary>
    public static IRnaMaskedLM NewModel(IModelConfig config, long seed)
    {
        ModelSetup.Seed(seed);
        var model = Family.CreatePreTrainingModel(config);
        ModelSetup.InitializeWeights(model.Module);
        ModelSetup.ZeroPaddingRow(model.Module, config.PadTokenId);
        return model;
    }

    /// <summary>The first <paramref name="count"/> bpRNA TR0 sequences, cut to at most <paramref name="maxLength"/> nucleotides.</summary>
    public static List<string> Sequences(int count, int maxLength = 60, int skip = 0) =>
        SequenceFiles.Read(Fixtures.Data("pretraining/bprna_tr0.dbn")).Skip(skip).Take(count)
            .Select(r => r.Sequence.Length > maxLength ? r.Sequence[..maxLength] : r.Sequence).ToList();
}
