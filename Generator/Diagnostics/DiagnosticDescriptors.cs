using System.Collections.Immutable;
using Microsoft.CodeAnalysis;

namespace RnaLm.Generator.Diagnostics;

/// <summary>
/// The single registry of diagnostic descriptors. Messages are single sentences without a final
/// period; arguments are preformatted strings (numbers in the invariant culture). Keep
/// AnalyzerReleases.Unshipped.md and docs/diagnostics/{ID}.md in step with this file.
/// </summary>
internal static class DiagnosticDescriptors
{
    public const string Category = "RnaLm.Spec";

    private const string HelpLinkFormat = "https://github.com/rnalm/rnalm/blob/main/docs/diagnostics/{0}.md";

    // ---- RNA1xxx: JSON syntax ----

    /// <summary>{0}: what the reader found and where it stopped.</summary>
    public static readonly DiagnosticDescriptor MalformedJson = Error(
        DiagnosticIds.MalformedJson,
        "Malformed JSON",
        "The spec is not valid JSON: {0}");

    /// <summary>{0}: the repeated property name.</summary>
    public static readonly DiagnosticDescriptor DuplicateProperty = Error(
        DiagnosticIds.DuplicateProperty,
        "Duplicate JSON property",
        "Property '{0}' appears more than once in this object");

    // ---- RNA2xxx: schema ----

    /// <summary>{0}: field name; {1}: container ("'dims'" or "the spec"); {2}: "; did you mean 'x'?" or "".</summary>
    public static readonly DiagnosticDescriptor UnknownField = Error(
        DiagnosticIds.UnknownField,
        "Unknown field",
        "Unknown field '{0}' in {1}{2}");

    /// <summary>{0}: path; {1}: expected ("an integer"); {2}: found ("a string").</summary>
    public static readonly DiagnosticDescriptor WrongValueType = Error(
        DiagnosticIds.WrongValueType,
        "Wrong value type",
        "'{0}' must be {1}, but is {2}");

    /// <summary>{0}: path of the missing field.</summary>
    public static readonly DiagnosticDescriptor MissingRequiredField = Error(
        DiagnosticIds.MissingRequiredField,
        "Missing required field",
        "Required field '{0}' is missing");

    /// <summary>{0}: path; {1}: the value as written; {2}: the allowed values.</summary>
    public static readonly DiagnosticDescriptor InvalidEnumValue = Error(
        DiagnosticIds.InvalidEnumValue,
        "Invalid value",
        "'{0}' has the invalid value {1}; allowed values are {2}");

    /// <summary>{0}: the version as written.</summary>
    public static readonly DiagnosticDescriptor UnsupportedSpecVersion = Error(
        DiagnosticIds.UnsupportedSpecVersion,
        "Unsupported spec_version",
        "spec_version {0} is not supported; this generator reads spec language version 2");

    /// <summary>{0}: path; {1}: the condition ("'embeddings.position.kind' is \"sinusoidal\"").</summary>
    public static readonly DiagnosticDescriptor FieldNotAllowedHere = Error(
        DiagnosticIds.FieldNotAllowedHere,
        "Field not allowed here",
        "'{0}' is only allowed when {1}");

    // ---- RNA3xxx: model semantics ----

    /// <summary>{0}: hidden size; {1}: heads.</summary>
    public static readonly DiagnosticDescriptor HiddenNotDivisibleByHeads = Error(
        DiagnosticIds.HiddenNotDivisibleByHeads,
        "Hidden size not divisible by heads",
        "The hidden size {0} is not divisible by the number of attention heads {1}");

    /// <summary>{0}: path; {1}: the range ("a positive integer"); {2}: the value.</summary>
    public static readonly DiagnosticDescriptor ValueOutOfRange = Error(
        DiagnosticIds.ValueOutOfRange,
        "Value out of range",
        "'{0}' must be {1}, but is {2}");

    /// <summary>{0}: model_max_length; {1}: embeddings.position.max.</summary>
    public static readonly DiagnosticDescriptor MaxLengthExceedsPositions = Error(
        DiagnosticIds.MaxLengthExceedsPositions,
        "model_max_length exceeds the learned positions",
        "The tokenizer's model_max_length {0} is larger than the {1} tokens the learned position embeddings cover (dims.max_positions)");

    /// <summary>{0}: rotary dim; {1}: the reason.</summary>
    public static readonly DiagnosticDescriptor InvalidRotaryDim = Error(
        DiagnosticIds.InvalidRotaryDim,
        "Invalid rotary dimension",
        "The rotary dimension {0} is invalid: {1}");

    /// <summary>{0}: the reason ("with softmax \"queries\"").</summary>
    public static readonly DiagnosticDescriptor InvalidPairPrior = Error(
        DiagnosticIds.InvalidPairPrior,
        "Pair prior not supported here",
        "The attention pair prior cannot be used {0}");

    /// <summary>{0}: the problem.</summary>
    public static readonly DiagnosticDescriptor InvalidVocabulary = Error(
        DiagnosticIds.InvalidVocabulary,
        "Invalid vocabulary",
        "Invalid tokenizer vocabulary: {0}");

    /// <summary>{0}: the alphabet name as written.</summary>
    public static readonly DiagnosticDescriptor UnknownAlphabet = Error(
        DiagnosticIds.UnknownAlphabet,
        "Unknown alphabet",
        "Unknown alphabet '{0}'; use \"rna-standard-28\", \"rna-legacy-26\", \"rna-streamline\", \"dna-streamline\" or an array of single letters");

    /// <summary>{0}: what ("type_name"); {1}: the value; {2}: the rule.</summary>
    public static readonly DiagnosticDescriptor InvalidIdentifier = Error(
        DiagnosticIds.InvalidIdentifier,
        "Invalid name or identifier",
        "{0} '{1}' is invalid: {2}");

    /// <summary>{0}: the pattern; {1}: the problem.</summary>
    public static readonly DiagnosticDescriptor InvalidCheckpointAlias = Error(
        DiagnosticIds.InvalidCheckpointAlias,
        "Invalid checkpoint alias",
        "Checkpoint alias '{0}' is invalid: {1}");

    /// <summary>{0}: vocab_size; {1}: vocabulary length.</summary>
    public static readonly DiagnosticDescriptor VocabSizeTooSmall = Error(
        DiagnosticIds.VocabSizeTooSmall,
        "vocab_size smaller than the vocabulary",
        "dims.vocab_size {0} is smaller than the {1} tokens of the tokenizer vocabulary");

    /// <summary>No arguments.</summary>
    public static readonly DiagnosticDescriptor MaxLengthWithoutPositions = Error(
        DiagnosticIds.MaxLengthWithoutPositions,
        "model_max_length needs positions",
        "model_max_length \"positions\" needs a positive dims.max_positions");

    /// <summary>{0}: number of special tokens; {1}: which ("<cls> and <eos>"); {2}: the resolved model_max_length.</summary>
    public static readonly DiagnosticDescriptor NoRoomForSequence = Error(
        DiagnosticIds.NoRoomForSequence,
        "Special tokens leave no room for the sequence",
        "The tokenizer adds {0} special token(s) ({1}) to every sequence, but model_max_length is {2}, so no sequence token fits");

    /// <summary>{0}: the later alias's pattern; {1}: how two keys meet.</summary>
    public static readonly DiagnosticDescriptor CheckpointAliasCollision = Error(
        DiagnosticIds.CheckpointAliasCollision,
        "Checkpoint aliases map two keys to one",
        "Checkpoint alias '{0}' can map two keys to one: {1}");

    /// <summary>{0}: the field; {1}: the output it needs; {2}: why the backbone lacks it.</summary>
    public static readonly DiagnosticDescriptor HeadInputMissing = Error(
        DiagnosticIds.HeadInputMissing,
        "Head reads an output the backbone does not produce",
        "'{0}' needs {1}, which the backbone does not produce: {2}");

    /// <summary>{0}: path; {1}: the value.</summary>
    public static readonly DiagnosticDescriptor SuspiciousLayerNormEps = Warning(
        DiagnosticIds.SuspiciousLayerNormEps,
        "Suspicious LayerNorm epsilon",
        "'{0}' is {1}, outside the usual range [1e-15, 1e-2]");

    /// <summary>{0}: vocab_size; {1}: vocabulary length.</summary>
    public static readonly DiagnosticDescriptor VocabSizeLargerThanVocabulary = Warning(
        DiagnosticIds.VocabSizeLargerThanVocabulary,
        "vocab_size larger than the vocabulary",
        "dims.vocab_size {0} is larger than the {1} tokens of the tokenizer vocabulary; the extra embedding rows are never used");

    /// <summary>{0}: the activation.</summary>
    public static readonly DiagnosticDescriptor UnusualPoolerActivation = Warning(
        DiagnosticIds.UnusualPoolerActivation,
        "Unusual pooler activation",
        "pooler.activation is \"{0}\"; BERT-style poolers use \"tanh\", so check that the checkpoints were trained with this activation");

    /// <summary>{0}: the base as written.</summary>
    public static readonly DiagnosticDescriptor UnusualRotaryBase = Warning(
        DiagnosticIds.UnusualRotaryBase,
        "Unusual rotary base",
        "The rotary base {0} is outside the usual range [1000, 1e7]");

    /// <summary>{0}: the entry as written; {1}: why it is never produced.</summary>
    public static readonly DiagnosticDescriptor UnreachableVocabularyEntry = Warning(
        DiagnosticIds.UnreachableVocabularyEntry,
        "Unreachable vocabulary entry",
        "Alphabet entry {0} can never be produced from text: {1}");

    /// <summary>No arguments.</summary>
    public static readonly DiagnosticDescriptor PoolerWithoutCls = Warning(
        DiagnosticIds.PoolerWithoutCls,
        "Pooler without <cls>",
        "The pooler reads the first token, but the tokenizer adds no <cls> (add_bos is false), so sequence-level outputs pool the first nucleotide");

    /// <summary>{0}: embeddings.position.max.</summary>
    public static readonly DiagnosticDescriptor UnboundedLengthWithLearnedPositions = Warning(
        DiagnosticIds.UnboundedLengthWithLearnedPositions,
        "Unbounded tokenizer with learned positions",
        "model_max_length is null (unbounded), but the {0} learned position embeddings only cover inputs of up to {0} tokens");

    // ---- RNA4xxx: variants and cross-spec ----

    /// <summary>{0}: variant; {1}: path; {2}: "; did you mean 'x'?" or "".</summary>
    public static readonly DiagnosticDescriptor VariantUnknownField = Error(
        DiagnosticIds.VariantUnknownField,
        "Variant overrides an unknown field",
        "Variant '{0}' sets '{1}', which is not a field of the spec language{2}");

    /// <summary>{0}: path of the architecture field.</summary>
    public static readonly DiagnosticDescriptor VariantArchitectureField = Error(
        DiagnosticIds.VariantArchitectureField,
        "Variant changes an architecture field",
        "Variants may only change configuration values; architecture field '{0}' must be changed in a separate spec");

    /// <summary>{0}: variant; {1}: member name; {2}: the earlier variant.</summary>
    public static readonly DiagnosticDescriptor DuplicateVariantName = Error(
        DiagnosticIds.DuplicateVariantName,
        "Duplicate variant name",
        "Variant '{0}' has the same C# member name '{1}' as variant '{2}'");

    /// <summary>{0}: kind ("model name", "type"); {1}: the name; {2}: the other spec file.</summary>
    public static readonly DiagnosticDescriptor DuplicateModelName = Error(
        DiagnosticIds.DuplicateModelName,
        "Model name declared twice",
        "The {0} '{1}' is already declared in '{2}'");

    /// <summary>{0}: variant; {1}: path; {2}: the absent block.</summary>
    public static readonly DiagnosticDescriptor VariantOverridesAbsentBlock = Error(
        DiagnosticIds.VariantOverridesAbsentBlock,
        "Variant overrides an absent block",
        "Variant '{0}' sets '{1}', but '{2}' is null in this spec");

    /// <summary>{0}: the missing name; {1}: "; did you mean 'x'?", " (the base of 'y')" or "".</summary>
    public static readonly DiagnosticDescriptor UnknownBaseSpec = Error(
        DiagnosticIds.UnknownBaseSpec,
        "Unknown base spec",
        "The spec extends '{0}', but no spec of this compilation declares that model name{1}");

    /// <summary>{0}: the extends value; {1}: the cycle ("a -> b -> a").</summary>
    public static readonly DiagnosticDescriptor CircularExtends = Error(
        DiagnosticIds.CircularExtends,
        "Circular extends",
        "The spec extends '{0}', which leads into a cycle: {1}");

    /// <summary>{0}: the variant; {1}: the generated member; {2}: what else generates it.</summary>
    public static readonly DiagnosticDescriptor GeneratedMemberCollision = Error(
        DiagnosticIds.GeneratedMemberCollision,
        "Generated member name collision",
        "Variant '{0}' would generate the C# member '{1}', which {2}; rename the variant");

    // ---- RNA5xxx: attribute specs ----

    /// <summary>{0}: the class.</summary>
    public static readonly DiagnosticDescriptor AttributeSpecNotPartial = Error(
        DiagnosticIds.AttributeSpecNotPartial,
        "Attribute spec class is not partial",
        "Class '{0}' declares a model with [RnaModel] and must be partial, because the generator adds members to it");

    /// <summary>{0}: the class.</summary>
    public static readonly DiagnosticDescriptor AttributeSpecNestedOrGeneric = Error(
        DiagnosticIds.AttributeSpecNestedOrGeneric,
        "Attribute spec class is nested or generic",
        "Class '{0}' declares a model with [RnaModel] and must be a top-level, non-generic class");

    /// <summary>{0}: the attribute; {1}: the class.</summary>
    public static readonly DiagnosticDescriptor AttributeOnOtherDeclaration = Error(
        DiagnosticIds.AttributeOnOtherDeclaration,
        "Spec attribute on another declaration",
        "[{0}] must be on the same declaration of '{1}' as [RnaModel]");

    /// <summary>{0}: the argument ("RnaNorm.Eps"); {1}: why.</summary>
    public static readonly DiagnosticDescriptor UnsupportedAttributeValue = Error(
        DiagnosticIds.UnsupportedAttributeValue,
        "Unsupported attribute value",
        "{0} cannot be used as a spec value: {1}");

    /// <summary>{0}: the argument; {1}: what it conflicts with.</summary>
    public static readonly DiagnosticDescriptor ConflictingAttributeArguments = Error(
        DiagnosticIds.ConflictingAttributeArguments,
        "Conflicting attribute arguments",
        "{0} conflicts with {1}");

    /// <summary>{0}: the variant name.</summary>
    public static readonly DiagnosticDescriptor DuplicateVariantAttribute = Error(
        DiagnosticIds.DuplicateVariantAttribute,
        "Duplicate variant attribute",
        "Variant '{0}' is declared by more than one [RnaModelVariant]");

    // ---- RNA9xxx: internal ----

    /// <summary>{0}: the exception message.</summary>
    public static readonly DiagnosticDescriptor InternalError = Error(
        DiagnosticIds.InternalError,
        "Internal generator error",
        "The RnaLm generator failed on this spec: {0}");

    /// <summary>Every descriptor, in id order (for tests and docs).</summary>
    public static ImmutableArray<DiagnosticDescriptor> All { get; } = ImmutableArray.Create(
        MalformedJson,
        DuplicateProperty,
        UnknownField,
        WrongValueType,
        MissingRequiredField,
        InvalidEnumValue,
        UnsupportedSpecVersion,
        FieldNotAllowedHere,
        HiddenNotDivisibleByHeads,
        ValueOutOfRange,
        MaxLengthExceedsPositions,
        InvalidRotaryDim,
        InvalidPairPrior,
        InvalidVocabulary,
        UnknownAlphabet,
        InvalidIdentifier,
        InvalidCheckpointAlias,
        VocabSizeTooSmall,
        MaxLengthWithoutPositions,
        NoRoomForSequence,
        CheckpointAliasCollision,
        HeadInputMissing,
        SuspiciousLayerNormEps,
        VocabSizeLargerThanVocabulary,
        UnusualPoolerActivation,
        UnusualRotaryBase,
        UnreachableVocabularyEntry,
        PoolerWithoutCls,
        UnboundedLengthWithLearnedPositions,
        VariantUnknownField,
        VariantArchitectureField,
        DuplicateVariantName,
        DuplicateModelName,
        VariantOverridesAbsentBlock,
        UnknownBaseSpec,
        CircularExtends,
        GeneratedMemberCollision,
        AttributeSpecNotPartial,
        AttributeSpecNestedOrGeneric,
        AttributeOnOtherDeclaration,
        UnsupportedAttributeValue,
        ConflictingAttributeArguments,
        DuplicateVariantAttribute,
        InternalError);

    public static string HelpLink(string id) => string.Format(System.Globalization.CultureInfo.InvariantCulture, HelpLinkFormat, id);

    private static DiagnosticDescriptor Error(string id, string title, string message) =>
        new(id, title, message, Category, DiagnosticSeverity.Error, isEnabledByDefault: true, helpLinkUri: HelpLink(id));

    private static DiagnosticDescriptor Warning(string id, string title, string message) =>
        new(id, title, message, Category, DiagnosticSeverity.Warning, isEnabledByDefault: true, helpLinkUri: HelpLink(id));
}
