using RnaLm.Generator.Spec;

namespace RnaLm.Generator.Emit;

/// <summary>Facts derived from a spec that several emitters need (names, parameter counts).</summary>
internal static class Facts
{
    public static string PositionEmbeddingType(PositionKind kind) => kind switch
    {
        PositionKind.Learned => "absolute",
        PositionKind.Sinusoidal => "sinusoidal",
        PositionKind.Rotary => "rotary",
        _ => "none",
    };

    /// <summary>
    /// Parameters of the backbone with a pooler, as on the model cards (stored rotary frequencies excluded). The same
    /// formula is emitted into the config class as <c>CountBackboneParameters()</c>.
    /// </summary>
    public static long BackboneParameters(ModelSpec spec, VariantSpec variant)
    {
        long h = variant.Dims.Hidden, i = variant.Dims.Intermediate, v = variant.Dims.VocabSize ?? 0, heads = variant.Dims.Heads;
        long total = v * h;
        if (spec.Embeddings.Position.Kind == PositionKind.Learned) total += (long)variant.MaxPositions * h;
        if (spec.Embeddings.TokenType is { } tokenType) total += tokenType.Size * h;
        if (spec.Embeddings.LayerNorm) total += 2 * h;
        total += variant.Dims.Layers * LayerParameters(spec, h, i);
        if (spec.Norm.Final) total += 2 * h;
        if (spec.Attention.PairPrior is not null)
        {
            long half = heads / 2;
            total += half + half + half * heads + heads;
        }
        total += h * h + h; // pooler
        return total;
    }

    public static long LayerParameters(ModelSpec spec, long h, long i)
    {
        long qkv = 3 * (h * h + (spec.Attention.QkvBias ? h : 0));
        long output = h * h + (spec.Attention.OutputBias ? h : 0);
        long ffn = h * i + i * h + (spec.FeedForward.Bias ? i + h : 0);
        return qkv + output + ffn + 2 * (2 * h);
    }
}
