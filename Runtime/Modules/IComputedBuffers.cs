namespace RnaLm.Modules;

/// <summary>
/// A module whose buffers are computed from its settings rather than stored in checkpoints (rotary frequencies from
/// the base). When a model is built without storage and given it afterwards, the loader calls
/// <see cref="ComputeBuffers"/> so those buffers hold their values again.
/// </summary>
public interface IComputedBuffers
{
    /// <summary>Writes the computed buffers' values into their (already allocated) storage.</summary>
    void ComputeBuffers();
}
