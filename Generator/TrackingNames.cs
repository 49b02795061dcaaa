namespace RnaLm.Generator;

/// <summary>Names of the tracked pipeline steps (asserted by the incrementality tests).</summary>
internal static class TrackingNames
{
    /// <summary>One spec file's text read into a <see cref="Spec.SpecDocument"/> (JSON syntax only).</summary>
    public const string ReadSpecDocument = nameof(ReadSpecDocument);

    /// <summary>One [RnaModel] class read into a <see cref="Spec.SpecDocument"/> and its holder class.</summary>
    public const string ReadAttributeSpec = nameof(ReadAttributeSpec);

    /// <summary>All documents by model name, for <c>extends</c>.</summary>
    public const string SpecIndex = nameof(SpecIndex);

    /// <summary>A spec file's <c>extends</c> chain resolved against the index.</summary>
    public const string ResolveSpec = nameof(ResolveSpec);

    /// <summary>An attribute spec's <c>extends</c> chain resolved against the index.</summary>
    public const string ResolveAttributeSpec = nameof(ResolveAttributeSpec);

    /// <summary>One spec file merged with its bases and validated into a <see cref="Spec.ParsedSpec"/>.</summary>
    public const string ParseSpec = nameof(ParseSpec);

    /// <summary>One attribute spec merged with its bases and validated.</summary>
    public const string ParseAttributeSpec = nameof(ParseAttributeSpec);

    /// <summary>The valid specs.</summary>
    public const string ValidSpec = nameof(ValidSpec);

    /// <summary>The valid attribute specs.</summary>
    public const string ValidAttributeSpec = nameof(ValidAttributeSpec);

    /// <summary>The valid specs not excluded by a cross-spec error (input of the per-spec emitters).</summary>
    public const string EmitSpec = nameof(EmitSpec);

    /// <summary>The valid attribute specs not excluded by a cross-spec error.</summary>
    public const string EmitAttributeSpec = nameof(EmitAttributeSpec);

    /// <summary>The catalog entries of all emitted specs.</summary>
    public const string CatalogEntries = nameof(CatalogEntries);

    /// <summary>Diagnostics across specs (duplicate model names) and the specs they exclude.</summary>
    public const string CrossSpecDiagnostics = nameof(CrossSpecDiagnostics);
}
