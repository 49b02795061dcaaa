namespace RnaLm.Generator.Diagnostics;

/// <summary>
/// Every diagnostic id of the RnaLm generator. Ranges: RNA1xxx JSON syntax, RNA2xxx schema,
/// RNA3xxx model semantics (RNA31xx warnings), RNA4xxx variants and cross-spec checks (extends included),
/// RNA5xxx attribute specs, RNA9xxx internal errors. An id is never reused for another
/// rule; every id has a page docs/diagnostics/{ID}.md and a line in AnalyzerReleases.Unshipped.md.
/// </summary>
internal static class DiagnosticIds
{
    // RNA1xxx: JSON syntax
    public const string MalformedJson = "RNA1001";
    public const string DuplicateProperty = "RNA1002";

    // RNA2xxx: schema
    public const string UnknownField = "RNA2001";
    public const string WrongValueType = "RNA2002";
    public const string MissingRequiredField = "RNA2003";
    public const string InvalidEnumValue = "RNA2004";
    public const string UnsupportedSpecVersion = "RNA2005";
    public const string FieldNotAllowedHere = "RNA2006";

    // RNA3xxx: model semantics (errors)
    public const string HiddenNotDivisibleByHeads = "RNA3001";
    public const string ValueOutOfRange = "RNA3002";
    public const string MaxLengthExceedsPositions = "RNA3003";
    public const string InvalidRotaryDim = "RNA3004";
    public const string InvalidPairPrior = "RNA3005";
    public const string InvalidVocabulary = "RNA3006";
    public const string UnknownAlphabet = "RNA3007";
    public const string InvalidIdentifier = "RNA3008";
    public const string InvalidCheckpointAlias = "RNA3009";
    public const string VocabSizeTooSmall = "RNA3010";
    public const string MaxLengthWithoutPositions = "RNA3011";
    public const string NoRoomForSequence = "RNA3012";
    public const string CheckpointAliasCollision = "RNA3013";
    public const string HeadInputMissing = "RNA3014";

    // RNA31xx: model semantics (warnings)
    public const string SuspiciousLayerNormEps = "RNA3101";
    public const string VocabSizeLargerThanVocabulary = "RNA3102";
    public const string UnusualPoolerActivation = "RNA3103";
    public const string UnusualRotaryBase = "RNA3105";
    public const string UnreachableVocabularyEntry = "RNA3106";
    public const string PoolerWithoutCls = "RNA3107";
    public const string UnboundedLengthWithLearnedPositions = "RNA3108";

    // RNA4xxx: variants, cross-spec
    public const string VariantUnknownField = "RNA4001";
    public const string VariantArchitectureField = "RNA4002";
    public const string DuplicateVariantName = "RNA4003";
    public const string DuplicateModelName = "RNA4004";
    public const string VariantOverridesAbsentBlock = "RNA4005";
    public const string UnknownBaseSpec = "RNA4006";
    public const string CircularExtends = "RNA4007";
    public const string GeneratedMemberCollision = "RNA4008";

    // RNA5xxx: attribute specs
    public const string AttributeSpecNotPartial = "RNA5001";
    public const string AttributeSpecNestedOrGeneric = "RNA5002";
    public const string AttributeOnOtherDeclaration = "RNA5003";
    public const string UnsupportedAttributeValue = "RNA5004";
    public const string ConflictingAttributeArguments = "RNA5005";
    public const string DuplicateVariantAttribute = "RNA5006";

    // RNA9xxx: internal
    public const string InternalError = "RNA9001";
}
