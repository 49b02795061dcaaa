using System.Collections.Immutable;

namespace RnaLm.Generator.Kinds;

/// <summary><c>"sinusoidal"</c>: fairseq's computed sinusoid table (ERNIE-RNA), never stored.</summary>
internal sealed class SinusoidalPositionKind : PositionKind
{
    public static readonly FieldDef PaddingAware = new("padding_aware", FieldType.Bool, true,
        "A real token's row is the count of real tokens up to and including it, plus `pad_token_id` and `offset`; a pad token's row is `pad_token_id + offset` (row `pad_token_id` is the zero row). `false`: every token counts as real.");

    public static readonly FieldDef Offset = new("offset", FieldType.Int(0), 1,
        "Added to every row index: with `<pad>` = 0 and offset 1, `<cls>` uses row 2 and pads row 1.");

    public override string Name => "sinusoidal";

    public override string Summary =>
        "A computed fairseq sinusoid (first half sin, second half cos) added to the word embeddings; never stored, covers any length.";

    public override ImmutableArray<FieldDef> Fields => ImmutableArray.Create(PaddingAware, Offset);

    public override string PositionEmbeddingType => "sinusoidal";

    public override bool NeedsMaxPositions => true;
}
