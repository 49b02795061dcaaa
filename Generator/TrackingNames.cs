namespace RnaLm.Generator;

/// <summary>Names of the tracked pipeline steps (asserted by the incrementality tests).</summary>
internal static class TrackingNames
{
    /// <summary>One spec file's text parsed and validated into a <see cref="Spec.ParsedSpec"/>.</summary>
    public const string ParseSpec = nameof(ParseSpec);

    /// <summary>The valid specs (input of the per-spec emitters).</summary>
    public const string ValidSpec = nameof(ValidSpec);

    /// <summary>The catalog entries of all valid specs.</summary>
    public const string CatalogEntries = nameof(CatalogEntries);

    /// <summary>Diagnostics across specs (duplicate model names).</summary>
    public const string CrossSpecDiagnostics = nameof(CrossSpecDiagnostics);
}
