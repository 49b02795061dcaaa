using System.Collections.Generic;
using System.Linq;

namespace RnaLm.Generator.Kinds;

/// <summary>
/// Slot <c>"attention.biases"</c>: an object whose keys are bias kinds, each added to the scaled scores before the
/// softmax. A bias is computed once per forward (fragments <c>model.*</c>) and travels in the attention-inputs record.
/// </summary>
internal abstract class AttentionBiasKind : Kind
{
    /// <summary>Each layer's pre-softmax logits become the next layer's bias (ERNIE-RNA), and can be returned.</summary>
    public virtual bool CarriesLogits => false;

    /// <summary>State-dict entries at the backbone level.</summary>
    public virtual IEnumerable<ParamDecl> Params(KindSpec spec, KindContext context) => Enumerable.Empty<ParamDecl>();

    /// <summary>Multiply-adds of computing the bias.</summary>
    public virtual FlopTerms Flops(KindSpec spec, KindContext context) => FlopTerms.None;
}
