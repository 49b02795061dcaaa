namespace RnaLm.Generator.Kinds;

/// <summary><c>"post_norm"</c>: BERT's order, a norm after each residual addition.</summary>
internal sealed class PostNormLayerKind : LayerKind
{
    public override string Name => "post_norm";

    public override string Summary =>
        "BERT: `a = norm(x + attention(x))`, `y = norm(a + ffn(a))`; the norms are `attention.output.layer_norm` and `output.layer_norm`.";

    public override (string, string) NormKeys => ("attention.output.layer_norm", "output.layer_norm");
}
