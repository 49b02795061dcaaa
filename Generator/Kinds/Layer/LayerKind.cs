namespace RnaLm.Generator.Kinds;

/// <summary>
/// Slot <c>"layer"</c>: how a transformer layer orders its norms and residuals. Its template writes the classes
/// <c>SelfOutput</c>, <c>Attention</c>, <c>Output</c> and <c>Layer</c> around the attention and feed-forward kinds.
/// </summary>
internal abstract class LayerKind : Kind
{
    /// <summary>The keys of a layer's two norms, relative to <c>encoder.layer.{i}</c>.</summary>
    public abstract (string BeforeOrAfterAttention, string BeforeOrAfterFeedForward) NormKeys { get; }
}
