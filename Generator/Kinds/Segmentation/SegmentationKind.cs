namespace RnaLm.Generator.Kinds;

/// <summary>
/// Slot <c>"tokenizer.segmentation"</c>: how text is cut into tokens. It sets the k of the vocabulary (6 specials plus
/// every k-mer of the alphabet) and the tokenizer options (template fragment <c>tokenizer.options</c>). Variants may
/// replace the whole slot (<c>ncrnabert-3mer</c>, <c>mrnafm</c>).
/// </summary>
internal abstract class SegmentationKind : Kind
{
    /// <summary>k of the vocabulary's k-mers.</summary>
    public abstract int Nmers(KindSpec spec);

    /// <summary>Non-overlapping triplets (config field <c>codon</c>).</summary>
    public virtual bool Codon => false;
}
