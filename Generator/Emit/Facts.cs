using System.Globalization;
using System.Text;
using RnaLm.Generator.Spec;

namespace RnaLm.Generator.Emit;

/// <summary>
/// Facts derived from a spec that several emitters need: names, parameter counts, forward FLOPs and the model-card
/// row. The counts are computed here at generation time and emitted as constants; the same formulas are emitted into
/// the config class (<c>CountBackboneParameters()</c>, <c>ForwardFlops(int)</c>) for configs read at run time.
/// docs/model-facts.md documents both.
/// </summary>
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

    /// <summary>
    /// FLOPs of one forward pass of the pretraining model (backbone, pooler, MLM head) over one sequence of L tokens,
    /// as the polynomial <c>PerSequence + PerToken·L + PerTokenPair·L²</c>, counting 2 FLOPs per multiply-add of every
    /// matrix product (docs/model-facts.md):
    /// <list type="bullet">
    /// <item>per token: N·(4H² + 2HI) for the Q/K/V and output projections and the feed-forward block, plus H² + HV for
    /// the MLM head transform and decoder;</item>
    /// <item>per token pair: N·2H for QKᵀ and PV (h heads of size d = H/h each), plus (h/2)·(1 + h) for the pair-prior
    /// MLP 1 → h/2 → h when the spec has one;</item>
    /// <item>per sequence: H² for the pooler on the first token.</item>
    /// </list>
    /// </summary>
    public static FlopsPolynomial ForwardFlops(ModelSpec spec, VariantSpec variant)
    {
        long h = variant.Dims.Hidden, i = variant.Dims.Intermediate, v = variant.Dims.VocabSize ?? 0;
        long n = variant.Dims.Layers, heads = variant.Dims.Heads;
        long perToken = n * (4 * h * h + 2 * h * i) + (h * h + h * v);
        long perPair = n * (2 * h);
        if (spec.Attention.PairPrior is not null)
        {
            long half = heads / 2;
            perPair += half + half * heads;
        }
        long perSequence = h * h;
        return new FlopsPolynomial(2 * perSequence, 2 * perToken, 2 * perPair);
    }

    /// <summary>The header of the model-card table (<c>ModelCatalog.ModelCardTable</c>, docs/models.md).</summary>
    public const string ModelCardHeader =
        "| model | family | layers | hidden | heads | intermediate | vocab | parameters | max tokens |\n" +
        "|---|---|---:|---:|---:|---:|---:|---:|---:|\n";

    /// <summary>One Markdown row of the model-card table for a variant (numbers with thousands separators).</summary>
    public static string ModelCardRow(ModelSpec spec, VariantSpec variant)
    {
        int? maxTokens = variant.Tokenizer.ModelMaxLength.Resolve(variant.MaxPositions);
        var row = new StringBuilder();
        row.Append("| `").Append(Cell(variant.Name)).Append("` | ").Append(Cell(spec.Name))
            .Append(" | ").Append(Number(variant.Dims.Layers))
            .Append(" | ").Append(Number(variant.Dims.Hidden))
            .Append(" | ").Append(Number(variant.Dims.Heads))
            .Append(" | ").Append(Number(variant.Dims.Intermediate))
            .Append(" | ").Append(Number(variant.Dims.VocabSize ?? 0))
            .Append(" | ").Append(Number(BackboneParameters(spec, variant)))
            .Append(" | ").Append(maxTokens is int m ? Number(m) : "unbounded")
            .Append(" |\n");
        return row.ToString();
    }

    private static string Number(long value) => value.ToString("#,0", CultureInfo.InvariantCulture);

    private static string Cell(string text) => text.Replace("|", "\\|").Replace("`", "'");
}

/// <summary>FLOPs of one forward pass as <c>PerSequence + PerToken·L + PerTokenPair·L²</c> (already ×2 per multiply-add).</summary>
internal readonly struct FlopsPolynomial
{
    public FlopsPolynomial(long perSequence, long perToken, long perTokenPair)
    {
        PerSequence = perSequence;
        PerToken = perToken;
        PerTokenPair = perTokenPair;
    }

    public long PerSequence { get; }

    public long PerToken { get; }

    public long PerTokenPair { get; }
}
