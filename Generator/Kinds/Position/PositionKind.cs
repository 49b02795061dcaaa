using System.Collections.Generic;
using System.Linq;

namespace RnaLm.Generator.Kinds;

/// <summary>
/// Slot <c>"position"</c>: where positional information enters. Input-side kinds fill the template fragments
/// <c>embeddings.*</c>; attention-side kinds (rotary) fill <c>attention.*</c>.
/// </summary>
internal abstract class PositionKind : Kind
{
    /// <summary>The <c>position_embedding_type</c> a config of this kind carries (checked when a config.json is read).</summary>
    public abstract string PositionEmbeddingType { get; }

    /// <summary>Whether <c>dims.max_positions</c> must be at least 1 (it sizes a table).</summary>
    public virtual bool NeedsMaxPositions => false;

    /// <summary>
    /// The longest sequence (tokens, special ones included) this kind supports with <paramref name="maxPositions"/>
    /// positions, as a formula of <c>p</c>; null when unbounded. <c>model_max_length: "positions"</c> resolves to it.
    /// </summary>
    public virtual Expr? UsableTokens(KindSpec spec) => null;

    /// <summary>The state-dict entries of this kind.</summary>
    public virtual IEnumerable<ParamDecl> Params(KindSpec spec, KindContext context) => Enumerable.Empty<ParamDecl>();
}
