namespace RnaLm.Generator.Kinds;

/// <summary><c>"keys"</c>: BERT's softmax over the keys with an additive key-padding mask.</summary>
internal sealed class KeysSoftmaxKind : SoftmaxKind
{
    public override string Name => "keys";

    public override bool HasFusedKernel => true;

    public override string Summary =>
        "Softmax over the keys (each row sums to 1), with an additive mask of `finfo.min` on padded key columns, none when nothing is padded.";
}
