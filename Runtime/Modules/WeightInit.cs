using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace RnaLm.Modules;

/// <summary>
/// BERT-style initialisation (Hugging Face <c>_init_weights</c> with <c>initializer_range</c>): linear and embedding
/// weights from N(0, std), linear biases zero, LayerNorm weight one and bias zero, the padding row of the word
/// embeddings zero. Convolutions and batch norms keep PyTorch's defaults. Loading a checkpoint overwrites all of it;
/// it matters for models trained from scratch, where TorchSharp's own defaults (N(0, 1) embeddings tied to the MLM
/// decoder) make the first logits very peaked and training crawl.
/// </summary>
public static class WeightInit
{
    /// <summary>Initialises every Linear (TorchSharp's and <see cref="Dense"/>), Embedding and LayerNorm below <paramref name="root"/> (itself included).</summary>
    /// <param name="root">The module to initialise.</param>
    /// <param name="std"><c>initializer_range</c>.</param>
    /// <param name="paddingIndex">Row of every embedding table to zero (the pad token), or null.</param>
    public static void Apply(nn.Module root, double std, long? paddingIndex = null)
    {
        using var scope = NewDisposeScope();
        using var noGrad = no_grad();
        var embeddings = new System.Collections.Generic.List<Embedding>();
        foreach (var module in root.modules())
        {
            switch (module)
            {
                case Linear linear:
                    linear.weight!.normal_(0, std);
                    linear.bias?.zero_();
                    break;
                case Dense dense:
                    dense.Weight.normal_(0, std);
                    dense.Bias?.zero_();
                    break;
                case Embedding embedding:
                    embedding.weight!.normal_(0, std);
                    embeddings.Add(embedding);
                    break;
                case LayerNorm norm:
                    norm.weight?.fill_(1);
                    norm.bias?.zero_();
                    break;
            }
        }
        // Last, so a decoder tied to the word embeddings (initialised as a Linear after them) keeps a zero pad row.
        if (paddingIndex is long pad)
        {
            foreach (var embedding in embeddings)
            {
                if (pad >= 0 && pad < embedding.weight!.shape[0]) embedding.weight[pad].zero_();
            }
        }
    }
}
