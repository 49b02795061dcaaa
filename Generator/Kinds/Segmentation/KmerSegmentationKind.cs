using System.Collections.Immutable;

namespace RnaLm.Generator.Kinds;

/// <summary><c>"kmer"</c>: overlapping k-mers with stride 1 (config field <c>nmers</c>).</summary>
internal sealed class KmerSegmentationKind : SegmentationKind
{
    public static readonly FieldDef K = new("k", FieldType.Int(2), null, "k of the k-mers.", Required: true);

    public override string Name => "kmer";

    public override string Summary =>
        "Overlapping k-mers with stride 1 per text chunk between special tokens (a chunk shorter than k yields nothing); vocabulary = 6 specials + every k-mer of the alphabet.";

    public override ImmutableArray<FieldDef> Fields => ImmutableArray.Create(K);

    public override int Nmers(KindSpec spec) => spec.Get<int>("k");
}
