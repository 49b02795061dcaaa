namespace RnaLm.Generator.Kinds;

/// <summary><c>"single"</c>: one token per nucleotide.</summary>
internal sealed class SingleSegmentationKind : SegmentationKind
{
    public override string Name => "single";

    public override string Summary => "One token per letter of the alphabet.";

    public override int Nmers(KindSpec spec) => 1;
}
