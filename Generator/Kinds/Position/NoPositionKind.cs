namespace RnaLm.Generator.Kinds;

/// <summary><c>"none"</c>: no positional information at all.</summary>
internal sealed class NoPositionKind : PositionKind
{
    public override string Name => "none";

    public override string Summary => "No positional information (the model sees a bag of tokens).";

    public override string PositionEmbeddingType => "none";
}
