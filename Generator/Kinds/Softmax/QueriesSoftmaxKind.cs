namespace RnaLm.Generator.Kinds;

/// <summary><c>"queries"</c>: ncRNABert's softmax over the query axis.</summary>
internal sealed class QueriesSoftmaxKind : SoftmaxKind
{
    public override string Name => "queries";

    public override bool HasFusedKernel => false;

    public override string Summary =>
        "Softmax over the queries (each column sums to 1), with the mask on padded query rows and a post-softmax pair mask that zeroes padded rows and columns.";
}
