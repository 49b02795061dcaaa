namespace RnaLm.Generator.Kinds;

/// <summary><c>"pre_norm_normed_residual"</c>: RiNALMo's pre-LN, whose attention residual starts from the normed input.</summary>
internal sealed class PreNormNormedResidualLayerKind : LayerKind
{
    public override string Name => "pre_norm_normed_residual";

    public override string Summary =>
        "Pre-LN with the attention residual taken from the normalised input (RiNALMo): `u = norm(x)`, `a = u + attention(u)`, `y = a + ffn(norm(a))`; keys as `pre_norm`.";

    public override (string, string) NormKeys => ("attention.layer_norm", "layer_norm");
}
