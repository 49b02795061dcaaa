namespace RnaLm.Generator.Kinds;

/// <summary><c>"codon"</c>: non-overlapping triplets (config field <c>codon</c>).</summary>
internal sealed class CodonSegmentationKind : SegmentationKind
{
    public override string Name => "codon";

    public override string Summary =>
        "Non-overlapping triplets from the start of each text chunk between special tokens; a chunk whose length is not a multiple of 3 is an error. Vocabulary = 6 specials + every 3-mer of the alphabet.";

    public override int Nmers(KindSpec spec) => 3;

    public override bool Codon => true;
}
