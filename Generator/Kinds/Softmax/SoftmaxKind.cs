namespace RnaLm.Generator.Kinds;

/// <summary>
/// Slot <c>"attention.softmax"</c>: how scores become attention probabilities and how padding is masked. Its template
/// builds the masks once per forward (fragment <c>model.masks</c>) and applies them around the softmax (fragment
/// <c>attention.probabilities</c>).
/// </summary>
internal abstract class SoftmaxKind : Kind
{
}
