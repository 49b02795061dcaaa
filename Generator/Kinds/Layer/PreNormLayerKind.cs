namespace RnaLm.Generator.Kinds;

/// <summary><c>"pre_norm"</c>: ESM/fairseq pre-LN, residuals from the un-normalised input.</summary>
internal sealed class PreNormLayerKind : LayerKind
{
    public override string Name => "pre_norm";

    public override string Summary =>
        "Pre-LN (ESM): `a = x + attention(norm(x))`, `y = a + ffn(norm(a))`; the norms are `attention.layer_norm` and `layer_norm`.";

    public override (string, string) NormKeys => ("attention.layer_norm", "layer_norm");
}
