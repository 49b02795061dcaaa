using System.Collections.Immutable;
using System.Linq;
using System.Threading;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.Text;
using RnaLm.Generator.Diagnostics;
using RnaLm.Generator.Spec;
using Xunit;
using static RnaLm.Tests.Generator.SpecTestKit;

namespace RnaLm.Tests.Generator;

/// <summary>
/// One or more tests per diagnostic id: a small spec, the id, the severity, the exact 1-based
/// (line, column) start and end as a build prints them, the text under the span, and the message.
/// Specs come from <see cref="SpecTestKit.Tiny"/>: line 2 spec_version, 3 name, 4 type_name, 5 dims,
/// 6 norm, 7 position, 8 feed_forward, 9 pooler, 10 checkpoint, then added fields from line 11.
/// </summary>
public class SpecDiagnosticsTests
{
    private const DiagnosticSeverity Error = DiagnosticSeverity.Error;
    private const DiagnosticSeverity Warning = DiagnosticSeverity.Warning;

    private static string Dims(string hidden = "64", string layers = "2", string heads = "4", string intermediate = "128", string extra = "") =>
        "{ \"hidden\": " + hidden + ", \"layers\": " + layers + ", \"heads\": " + heads + ", \"intermediate\": " + intermediate + ", \"max_positions\": 128" + extra + " }";

    // ---------------------------------------------------------------- registry

    [Fact]
    public void EveryDescriptorIsRegisteredOnceWithCategoryAndHelpLink()
    {
        var all = DiagnosticDescriptors.All;
        var ids = typeof(DiagnosticIds).GetFields().Select(f => (string)f.GetRawConstantValue()!).ToList();
        Assert.Equal(ids.OrderBy(i => i, System.StringComparer.Ordinal), all.Select(d => d.Id));
        Assert.Equal(all.Length, all.Select(d => d.Id).Distinct().Count());
        foreach (var d in all)
        {
            Assert.Matches("^RNA[1-9][0-9]{3}$", d.Id);
            Assert.Equal("RnaLm.Spec", d.Category);
            Assert.Equal("https://github.com/rnalm/rnalm/blob/main/docs/diagnostics/" + d.Id + ".md", d.HelpLinkUri);
            Assert.True(d.IsEnabledByDefault);
            Assert.Equal(d.Id.StartsWith("RNA31", System.StringComparison.Ordinal) ? Warning : Error, d.DefaultSeverity);
        }
    }

    // ---------------------------------------------------------------- RNA1xxx

    [Fact]
    public void RNA1001_MalformedJson_TrailingComma()
    {
        var json = Tiny(("dims", Dims(extra: ",")));
        var d = Only(Parse(json), "RNA1001", Error, (5, 95), (5, 96));
        Assert.Equal("}", Covered(json, d));
        Assert.Equal("The spec is not valid JSON: a trailing comma before '}' is not allowed", Message(d));
    }

    [Fact]
    public void RNA1001_MalformedJson_UnterminatedString()
    {
        var json = Tiny(("name", "\"tiny"));
        var d = Only(Parse(json), "RNA1001", Error, (3, 11), (3, 17));
        Assert.Equal("\"tiny,", Covered(json, d));
        Assert.Equal("The spec is not valid JSON: unterminated string", Message(d));
    }

    [Fact]
    public void RNA1001_MalformedJson_NotJsonAtAll()
    {
        var d = Only(Parse("name: tiny\n"), "RNA1001", Error, (1, 1), (1, 5));
        Assert.StartsWith("The spec is not valid JSON: invalid literal 'name'", Message(d), System.StringComparison.Ordinal);
    }

    [Fact]
    public void RNA1002_DuplicateProperty()
    {
        var json = Tiny(("name", "\"tiny\",\n  \"name\": \"again\""));
        var d = Only(Parse(json), "RNA1002", Error, (4, 3), (4, 9));
        Assert.Equal("\"name\"", Covered(json, d));
        Assert.Equal("Property 'name' appears more than once in this object", Message(d));
    }

    // ---------------------------------------------------------------- RNA2xxx

    [Fact]
    public void RNA2001_UnknownField_WithSuggestion()
    {
        var json = Tiny(("dimz", "{}"));
        var d = Only(Parse(json), "RNA2001", Error, (11, 3), (11, 9));
        Assert.Equal("\"dimz\"", Covered(json, d));
        Assert.Equal("Unknown field 'dimz' in the spec; did you mean 'dims'?", Message(d));
    }

    [Fact]
    public void RNA2001_UnknownField_NestedWithSuggestion()
    {
        var json = Tiny(("norm", "{ \"eps\": 1e-12, \"finale\": true }"));
        var d = Only(Parse(json), "RNA2001", Error, (6, 27), (6, 35));
        Assert.Equal("\"finale\"", Covered(json, d));
        Assert.Equal("Unknown field 'finale' in 'norm'; did you mean 'final'?", Message(d));
    }

    [Fact]
    public void RNA2001_UnknownField_NoSuggestionWhenNothingIsClose()
    {
        var json = Tiny(("colour", "\"blue\""));
        var d = Only(Parse(json), "RNA2001", Error, (11, 3), (11, 11));
        Assert.Equal("\"colour\"", Covered(json, d));
        Assert.Equal("Unknown field 'colour' in the spec", Message(d));
    }

    [Fact]
    public void RNA2002_WrongValueType_StringForInteger()
    {
        var json = Tiny(("dims", Dims(hidden: "\"64\"")));
        var d = Only(Parse(json), "RNA2002", Error, (5, 23), (5, 27));
        Assert.Equal("\"64\"", Covered(json, d));
        Assert.Equal("'dims.hidden' must be an integer, but is a string", Message(d));
    }

    [Fact]
    public void RNA2002_WrongValueType_FractionForInteger()
    {
        var json = Tiny(("dims", Dims(layers: "2.5")));
        var d = Only(Parse(json), "RNA2002", Error, (5, 37), (5, 40));
        Assert.Equal("2.5", Covered(json, d));
        Assert.Equal("'dims.layers' must be an integer, but is a non-integer number", Message(d));
    }

    [Fact]
    public void RNA2002_WrongValueType_SectionIsNotAnObject()
    {
        var json = Tiny(("pooler", "true"));
        var d = Only(Parse(json), "RNA2002", Error, (9, 13), (9, 17));
        Assert.Equal("true", Covered(json, d));
        Assert.Equal("'pooler' must be an object, but is true", Message(d));
    }

    [Fact]
    public void RNA2003_MissingRequiredField_AtTheOpeningBrace()
    {
        var json = Tiny(("dims", "{ \"hidden\": 64, \"layers\": 2, \"intermediate\": 128, \"max_positions\": 128 }"));
        var d = Only(Parse(json), "RNA2003", Error, (5, 11), (5, 12));
        Assert.Equal("{", Covered(json, d));
        Assert.Equal("Required field 'dims.heads' is missing", Message(d));
    }

    [Fact]
    public void RNA2003_MissingRequiredTopLevelSection()
    {
        var json = Tiny(("checkpoint", null));
        var d = Only(Parse(json), "RNA2003", Error, (1, 1), (1, 2));
        Assert.Equal("{", Covered(json, d));
        Assert.Equal("Required field 'checkpoint' is missing", Message(d));
    }

    [Fact]
    public void RNA2003_KindRequiredInASlotWithoutADefault()
    {
        var json = Tiny(("position", "{ \"offset\": 1 }"));
        var d = Only(Parse(json), "RNA2003", Error, (7, 15), (7, 16));
        Assert.Equal("{", Covered(json, d));
        Assert.Equal("Required field 'position.kind' is missing", Message(d));
    }

    [Fact]
    public void RNA2003_RequiredKindField()
    {
        var json = Tiny(("tokenizer", "{ \"segmentation\": { \"kind\": \"kmer\" } }"));
        var d = Only(Parse(json), "RNA2003", Error, (11, 34), (11, 35));
        Assert.Equal("{", Covered(json, d));
        Assert.Equal("Required field 'tokenizer.segmentation.k' is missing", Message(d));
    }

    [Fact]
    public void RNA2004_InvalidEnumValue()
    {
        var json = Tiny(("layer", "\"middle_norm\""));
        var d = Only(Parse(json), "RNA2004", Error, (11, 12), (11, 25));
        Assert.Equal("\"middle_norm\"", Covered(json, d));
        Assert.Equal("'layer' has the invalid value \"middle_norm\"; allowed values are \"post_norm\", \"pre_norm\", \"pre_norm_normed_residual\"", Message(d));
    }

    [Fact]
    public void RNA2004_UnknownKindInAnObject()
    {
        var json = Tiny(("feed_forward", "{ \"kind\": \"moe\", \"activation\": \"gelu\" }"));
        var d = Only(Parse(json), "RNA2004", Error, (8, 29), (8, 34));
        Assert.Equal("\"moe\"", Covered(json, d));
        Assert.Equal("'feed_forward.kind' has the invalid value \"moe\"; allowed values are \"mlp\", \"gated\", \"fused_gated\"", Message(d));
    }

    [Fact]
    public void RNA2004_InvalidKeywordOfAMixedField()
    {
        var json = Tiny(("dims", Dims(extra: ", \"vocab_size\": \"from_vocab\"")));
        var d = Only(Parse(json), "RNA2004", Error, (5, 109), (5, 121));
        Assert.Equal("\"from_vocab\"", Covered(json, d));
        Assert.Equal("'dims.vocab_size' has the invalid value \"from_vocab\"; allowed values are a positive integer or \"from_tokenizer\"", Message(d));
    }

    [Fact]
    public void RNA2005_UnsupportedSpecVersion_StopsEverythingElse()
    {
        var json = Tiny(("spec_version", "1"), ("dims", "{}"));
        var d = Only(Parse(json), "RNA2005", Error, (2, 19), (2, 20));
        Assert.Equal("1", Covered(json, d));
        Assert.Equal("spec_version 1 is not supported; this generator reads spec language version 2", Message(d));
    }

    [Fact]
    public void RNA2006_FieldNotAllowedForThePositionKind()
    {
        var json = Tiny(("position", "{ \"kind\": \"learned\", \"padding_aware\": true }"));
        var d = Only(Parse(json), "RNA2006", Error, (7, 36), (7, 51));
        Assert.Equal("\"padding_aware\"", Covered(json, d));
        Assert.Equal("'position.padding_aware' is only allowed when 'position.kind' is \"sinusoidal\"", Message(d));
    }

    // ---------------------------------------------------------------- RNA3xxx

    [Fact]
    public void RNA3001_HiddenNotDivisibleByHeads_AtHeads()
    {
        var json = Tiny(("dims", Dims(heads: "5")));
        var d = Only(Parse(json), "RNA3001", Error, (5, 49), (5, 50));
        Assert.Equal("5", Covered(json, d));
        Assert.Equal("The hidden size 64 is not divisible by the number of attention heads 5", Message(d));
    }

    [Fact]
    public void RNA3001_CausedByAVariant_AtTheVariantsValue_AndFamilyProblemsAreNotRepeated()
    {
        var json = Tiny(("variants", "{ \"tiny\": {}, \"tiny.wide\": { \"dims\": { \"hidden\": 66 } } }"));
        var d = Only(Parse(json), "RNA3001", Error, (11, 64), (11, 66));
        Assert.Equal("66", Covered(json, d));

        var familyProblem = Tiny(("dims", Dims(heads: "5")), ("variants", "{ \"tiny\": {}, \"tiny.a\": {}, \"tiny.b\": { \"norm\": { \"eps\": 1e-6 } } }"));
        Only(Parse(familyProblem), "RNA3001", Error, (5, 49), (5, 50));
    }

    [Fact]
    public void RNA3002_NonPositiveDimension()
    {
        var json = Tiny(("dims", Dims(layers: "0")));
        var d = Only(Parse(json), "RNA3002", Error, (5, 37), (5, 38));
        Assert.Equal("0", Covered(json, d));
        Assert.Equal("'dims.layers' must be a positive integer, but is 0", Message(d));
    }

    [Fact]
    public void RNA3002_NonPositiveEps()
    {
        var json = Tiny(("norm", "{ \"eps\": -1e-5 }"));
        var d = Only(Parse(json), "RNA3002", Error, (6, 20), (6, 25));
        Assert.Equal("-1e-5", Covered(json, d));
        Assert.Equal("'norm.eps' must be a positive number, but is -1e-5", Message(d));
    }

    [Fact]
    public void RNA3003_ModelMaxLengthLargerThanLearnedPositions()
    {
        var json = Tiny(("tokenizer", "{ \"model_max_length\": 256 }"));
        var d = Only(Parse(json), "RNA3003", Error, (11, 38), (11, 41));
        Assert.Equal("256", Covered(json, d));
        Assert.Equal("The tokenizer's model_max_length 256 is larger than the 128 tokens the learned position embeddings cover (dims.max_positions)", Message(d));
    }

    [Fact]
    public void RNA3003_CausedByAVariantShrinkingThePositions()
    {
        var json = Tiny(("tokenizer", "{ \"model_max_length\": 128 }"), ("variants", "{ \"tiny.short\": { \"dims\": { \"max_positions\": 64 } } }"));
        var d = Only(Parse(json), "RNA3003", Error, (12, 60), (12, 62));
        Assert.Equal("64", Covered(json, d));
        Assert.Equal("The tokenizer's model_max_length 128 is larger than the 64 tokens the learned position embeddings cover (dims.max_positions)", Message(d));
    }

    [Fact]
    public void RNA3003_OffsetLearnedPositionsLeaveRoomForTheOffset()
    {
        var json = Tiny(("position", "\"offset_learned\""), ("tokenizer", "{ \"model_max_length\": 127 }"));
        var d = Only(Parse(json), "RNA3003", Error, (11, 38), (11, 41));
        Assert.Equal("127", Covered(json, d));
        Assert.Equal("The tokenizer's model_max_length 127 is larger than the 126 tokens the learned position embeddings cover (dims.max_positions)", Message(d));
    }

    [Fact]
    public void RNA3004_RotaryDimOdd()
    {
        var json = Tiny(("position", "{ \"kind\": \"rotary\", \"dim\": 15 }"));
        var d = Only(Parse(json), "RNA3004", Error, (7, 42), (7, 44));
        Assert.Equal("15", Covered(json, d));
        Assert.Equal("The rotary dimension 15 is invalid: it must be even (features rotate in pairs)", Message(d));
    }

    [Fact]
    public void RNA3004_RotaryDimLargerThanTheHeadSize()
    {
        var json = Tiny(("position", "{ \"kind\": \"rotary\", \"dim\": 32 }"));
        var d = Only(Parse(json), "RNA3004", Error, (7, 42), (7, 44));
        Assert.Equal("The rotary dimension 32 is invalid: it is larger than the head size 16 (hidden size 64 / 4 heads)", Message(d));
    }

    [Fact]
    public void RNA3005_PairPriorWithSoftmaxOverQueries()
    {
        var json = Tiny(("attention", "{ \"softmax\": \"queries\", \"biases\": { \"pair_prior\": {} } }"));
        var d = Only(Parse(json), "RNA3005", Error, (11, 29), (11, 38));
        Assert.Equal("\"queries\"", Covered(json, d));
        Assert.Equal("The attention pair prior cannot be used with softmax \"queries\"; it needs softmax \"keys\"", Message(d));
    }

    [Fact]
    public void RNA3005_PairPriorWithoutACGU()
    {
        var json = Tiny(("attention", "{ \"biases\": { \"pair_prior\": {} } }"), ("tokenizer", "{ \"alphabet\": [\"A\", \"C\", \"G\", \"X\"] }"));
        var d = Only(Parse(json), "RNA3005", Error, (12, 30), (12, 50));
        Assert.Equal("[\"A\", \"C\", \"G\", \"X\"]", Covered(json, d));
        Assert.Equal("The attention pair prior cannot be used with a vocabulary that lacks the single-letter tokens A, C, G and U", Message(d));
    }

    [Fact]
    public void RNA3005_PairPriorWithKmersInAVariant()
    {
        var json = Tiny(("attention", "{ \"biases\": { \"pair_prior\": {} } }"), ("variants", "{ \"tiny.kmer\": { \"tokenizer\": { \"segmentation\": { \"kind\": \"kmer\", \"k\": 3 } } } }"));
        var d = Only(Parse(json), "RNA3005", Error, (12, 86), (12, 87));
        Assert.Equal("3", Covered(json, d));
    }

    [Fact]
    public void RNA3006_DuplicateAlphabetEntry_AtTheSecondOccurrence()
    {
        var json = Tiny(("tokenizer", "{ \"alphabet\": [\"A\", \"C\", \"A\"] }"));
        var d = Only(Parse(json), "RNA3006", Error, (11, 41), (11, 44));
        Assert.Equal("\"A\"", Covered(json, d));
        Assert.Equal("Invalid tokenizer vocabulary: alphabet entry \"A\" appears more than once", Message(d));
    }

    [Fact]
    public void RNA3006_AlphabetEntryNotASingleCharacter()
    {
        var json = Tiny(("tokenizer", "{ \"alphabet\": [\"A\", \"CG\"] }"));
        var d = Only(Parse(json), "RNA3006", Error, (11, 36), (11, 40));
        Assert.Equal("\"CG\"", Covered(json, d));
        Assert.Equal("Invalid tokenizer vocabulary: alphabet entry \"CG\" is not a single visible character", Message(d));
    }

    [Fact]
    public void RNA3006_VocabularyTooLarge()
    {
        var json = Tiny(("tokenizer", "{ \"alphabet\": \"rna-standard-28\", \"segmentation\": { \"kind\": \"kmer\", \"k\": 4 } }"));
        var d = Only(Parse(json), "RNA3006", Error, (11, 88), (11, 89));
        Assert.Equal("4", Covered(json, d));
        Assert.Equal("Invalid tokenizer vocabulary: the 4-mer vocabulary of a 22-letter alphabet has more than 65536 tokens", Message(d));
    }

    [Fact]
    public void RNA3007_UnknownAlphabet()
    {
        var json = Tiny(("tokenizer", "{ \"alphabet\": \"dna\" }"));
        var d = Only(Parse(json), "RNA3007", Error, (11, 30), (11, 35));
        Assert.Equal("\"dna\"", Covered(json, d));
        Assert.Equal("Unknown alphabet 'dna'; use \"rna-standard-28\", \"rna-legacy-26\", \"rna-streamline\", \"dna-streamline\" or an array of single letters", Message(d));
    }

    [Fact]
    public void RNA3008_InvalidTypeName()
    {
        var json = Tiny(("type_name", "\"tinyModel\""));
        var d = Only(Parse(json), "RNA3008", Error, (4, 16), (4, 27));
        Assert.Equal("\"tinyModel\"", Covered(json, d));
        Assert.Equal("type_name 'tinyModel' is invalid: " + NameRules.TypeNameRule, Message(d));
    }

    [Fact]
    public void RNA3008_InvalidModelName()
    {
        var json = Tiny(("name", "\"Tiny Model\""));
        var d = Only(Parse(json), "RNA3008", Error, (3, 11), (3, 23));
        Assert.Equal("\"Tiny Model\"", Covered(json, d));
        Assert.Equal("name 'Tiny Model' is invalid: " + NameRules.ModelNameRule, Message(d));
    }

    [Fact]
    public void RNA3008_InvalidNamespace()
    {
        var json = Tiny(("namespace", "\"My.class.Models\""));
        var d = Only(Parse(json), "RNA3008", Error, (11, 16), (11, 33));
        Assert.Equal("\"My.class.Models\"", Covered(json, d));
        Assert.Equal("namespace 'My.class.Models' is invalid: " + NameRules.NamespaceRule, Message(d));
    }

    [Fact]
    public void RNA3008_CheckpointPrefixWithADot()
    {
        var json = Tiny(("checkpoint", "{ \"prefix\": \"model.\" }"));
        var d = Only(Parse(json), "RNA3008", Error, (10, 29), (10, 37));
        Assert.Equal("\"model.\"", Covered(json, d));
        Assert.Equal("checkpoint.prefix 'model.' is invalid: " + NameRules.PrefixRule, Message(d));
    }

    [Fact]
    public void RNA3008_VariantNameGivesNoMemberName()
    {
        var json = Tiny(("variants", "{ \"510\": {} }"));
        var d = Only(Parse(json), "RNA3008", Error, (11, 17), (11, 22));
        Assert.Equal("\"510\"", Covered(json, d));
        Assert.Equal("variant name '510' is invalid: its C# member name '510' must start with a letter; start the name with the family name or a letter", Message(d));
    }

    [Fact]
    public void RNA3009_AliasPatternIsNotARegex()
    {
        var json = Tiny(("checkpoint", "{ \"prefix\": \"model\", \"aliases\": [ { \"pattern\": \"(abc\", \"replacement\": \"x\" } ] }"));
        var d = Only(Parse(json), "RNA3009", Error, (10, 64), (10, 70));
        Assert.Equal("\"(abc\"", Covered(json, d));
        Assert.StartsWith("Checkpoint alias '(abc' is invalid: ", Message(d), System.StringComparison.Ordinal);
    }

    [Fact]
    public void RNA3009_AliasReplacementNamesAMissingGroup()
    {
        var json = Tiny(("checkpoint", "{ \"prefix\": \"model\", \"aliases\": [ { \"pattern\": \"a(b)\", \"replacement\": \"$2\" } ] }"));
        var d = Only(Parse(json), "RNA3009", Error, (10, 87), (10, 91));
        Assert.Equal("\"$2\"", Covered(json, d));
        Assert.Equal("Checkpoint alias 'a(b)' is invalid: the replacement refers to group '$2', which the pattern does not define", Message(d));
    }

    [Fact]
    public void RNA3010_VocabSizeSmallerThanTheVocabulary()
    {
        var json = Tiny(("dims", Dims(extra: ", \"vocab_size\": 20")));
        var d = Only(Parse(json), "RNA3010", Error, (5, 109), (5, 111));
        Assert.Equal("20", Covered(json, d));
        Assert.Equal("dims.vocab_size 20 is smaller than the 28 tokens of the tokenizer vocabulary", Message(d));
    }

    [Fact]
    public void RNA3011_PositionsLengthWithoutPositionEmbeddings()
    {
        var json = Tiny(("dims", "{ \"hidden\": 64, \"layers\": 2, \"heads\": 4, \"intermediate\": 128 }"), ("position", "\"none\""), ("tokenizer", "{ \"model_max_length\": \"positions\" }"));
        var d = Only(Parse(json), "RNA3011", Error, (11, 38), (11, 49));
        Assert.Equal("\"positions\"", Covered(json, d));
        Assert.Equal("model_max_length \"positions\" needs a positive dims.max_positions", Message(d));
    }

    [Fact]
    public void RNA3101_SuspiciousEps_IsAWarningAndTheSpecIsStillBuilt()
    {
        var json = Tiny(("norm", "{ \"eps\": 0.1 }"));
        var d = Only(Parse(json), "RNA3101", Warning, (6, 20), (6, 23));
        Assert.Equal("0.1", Covered(json, d));
        Assert.Equal("'norm.eps' is 0.1, outside the usual range [1e-15, 1e-2]", Message(d));
    }

    [Fact]
    public void RNA3101_SuspiciousMlmEps()
    {
        var json = Tiny(("mlm_head", "{ \"layer_norm_eps\": 1e-20 }"));
        var d = Only(Parse(json), "RNA3101", Warning, (11, 35), (11, 40));
        Assert.Equal("1e-20", Covered(json, d));
        Assert.Equal("'mlm_head.layer_norm_eps' is 1e-20, outside the usual range [1e-15, 1e-2]", Message(d));
    }

    [Fact]
    public void RNA3102_VocabSizeLargerThanTheVocabulary_IsAWarning()
    {
        var json = Tiny(("dims", Dims(extra: ", \"vocab_size\": 32")));
        var d = Only(Parse(json), "RNA3102", Warning, (5, 109), (5, 111));
        Assert.Equal("32", Covered(json, d));
        Assert.Equal("dims.vocab_size 32 is larger than the 28 tokens of the tokenizer vocabulary; the extra embedding rows are never used", Message(d));
        Assert.Equal(32, Parse(json).Spec!.Variants[0].Dims.VocabSize);
    }

    // ---------------------------------------------------------------- RNA4xxx

    [Fact]
    public void RNA4001_VariantSetsAnUnknownField()
    {
        var json = Tiny(("variants", "{ \"tiny.x\": { \"dims\": { \"hiden\": 96 } } }"));
        var d = Only(Parse(json), "RNA4001", Error, (11, 39), (11, 46));
        Assert.Equal("\"hiden\"", Covered(json, d));
        Assert.Equal("Variant 'tiny.x' sets 'dims.hiden', which is not a field of the spec language; did you mean 'hidden'?", Message(d));
    }

    [Fact]
    public void RNA4002_VariantChangesAnArchitectureField()
    {
        var json = Tiny(("variants", "{ \"tiny.rms\": { \"norm\": { \"kind\": \"rms_norm\" } } }"));
        var d = Only(Parse(json), "RNA4002", Error, (11, 41), (11, 47));
        Assert.Equal("\"kind\"", Covered(json, d));
        Assert.Equal("Variants may only change configuration values; architecture field 'norm.kind' must be changed in a separate spec", Message(d));
    }

    [Fact]
    public void RNA4002_VariantRemovesABlock()
    {
        var json = Tiny(("attention", "{ \"biases\": { \"pair_prior\": {} } }"), ("variants", "{ \"tiny.plain\": { \"attention\": { \"biases\": { \"pair_prior\": null } } } }"));
        var d = Only(Parse(json), "RNA4002", Error, (12, 60), (12, 72));
        Assert.Equal("\"pair_prior\"", Covered(json, d));
        Assert.Equal("Variants may only change configuration values; architecture field 'attention.biases.pair_prior' must be changed in a separate spec", Message(d));
    }

    [Fact]
    public void RNA4003_TwoVariantsWithTheSameMemberName()
    {
        var json = Tiny(("variants", "{ \"tiny.a-b\": {}, \"tiny.a.b\": {} }"));
        var d = Only(Parse(json), "RNA4003", Error, (11, 33), (11, 43));
        Assert.Equal("\"tiny.a.b\"", Covered(json, d));
        Assert.Equal("Variant 'tiny.a.b' has the same C# member name 'TinyAB' as variant 'tiny.a-b'", Message(d));
    }

    [Fact]
    public void RNA4008_AVariantMemberCollidesWithAnotherVariantsGeneratedMember()
    {
        // "tiny" generates TinyName (its name constant); "tiny-name" would generate TinyName (its config): CS0102.
        var json = Tiny(("variants", "{ \"tiny\": {}, \"tiny-name\": {} }"));
        var d = Only(Parse(json), "RNA4008", Error, (11, 29), (11, 40));
        Assert.Equal("\"tiny-name\"", Covered(json, d));
        Assert.Equal("Variant 'tiny-name' would generate the C# member 'TinyName', which is also generated as the name constant of variant 'tiny'; rename the variant", Message(d));
    }

    [Fact]
    public void RNA4008_AVariantMemberCollidesWithAConfigMethod()
    {
        var json = Tiny(("variants", "{ \"tiny\": {}, \"count-backbone\": {} }"));
        var d = Only(Parse(json), "RNA4008", Error, (11, 29), (11, 45));
        Assert.Equal("Variant 'count-backbone' would generate the C# member 'CountBackboneParameters', which is already a method of the generated TinyConfig class; rename the variant", Message(d));
    }

    [Fact]
    public void RNA4004_TwoSpecsDeclareTheSameModelName()
    {
        var first = Parse(Tiny(), "/specs/a.model.json");
        var secondJson = Tiny(("type_name", "\"Other\""));
        var second = Parse(secondJson, "/specs/b.model.json");
        // Input order does not matter: the later path gets the diagnostic.
        var diagnostics = SpecValidation.CheckDuplicateNames(ImmutableArray.Create(second, first));
        var d = Assert.Single(diagnostics);
        Assert.Equal("/specs/b.model.json", d.Location!.FilePath);
        AssertAt(d, Error, (3, 11), (3, 17));
        Assert.Equal("\"tiny\"", Covered(secondJson, d));
        Assert.Equal("The model name 'tiny' is already declared in '/specs/a.model.json'", Message(d));
    }

    [Fact]
    public void RNA4004_VariantNameAndTypeNameClashes()
    {
        var first = Parse(Tiny(("variants", "{ \"tiny\": {}, \"shared.v1\": {} }")), "/specs/a.model.json");
        var secondJson = Tiny(("name", "\"other\""), ("variants", "{ \"shared.v1\": {} }"));
        var second = Parse(secondJson, "/specs/b.model.json");
        var diagnostics = SpecValidation.CheckDuplicateNames(ImmutableArray.Create(first, second));
        Assert.Equal(2, diagnostics.Count);
        AssertAt(diagnostics[0], Error, (4, 16), (4, 22));
        Assert.Equal("The type 'RnaLm.Models.Tiny' is already declared in '/specs/a.model.json'", Message(diagnostics[0]));
        AssertAt(diagnostics[1], Error, (11, 17), (11, 28));
        Assert.Equal("The variant name 'shared.v1' is already declared in '/specs/a.model.json'", Message(diagnostics[1]));
        Assert.Empty(SpecValidation.CheckDuplicateNames(ImmutableArray.Create(first)));
    }

    [Fact]
    public void RNA4005_VariantSetsAlphaWithoutAPairPrior()
    {
        var json = Tiny(("variants", "{ \"tiny.x\": { \"attention\": { \"biases\": { \"pair_prior\": { \"alpha\": 0.5 } } } } }"));
        var d = Only(Parse(json), "RNA4005", Error, (11, 72), (11, 79));
        Assert.Equal("\"alpha\"", Covered(json, d));
        Assert.Equal("Variant 'tiny.x' sets 'attention.biases.pair_prior.alpha', but 'attention.biases.pair_prior' is null in this spec", Message(d));
    }

    // ---------------------------------------------------------------- RNA3xxx: diagnostics of the catalogue of checks

    [Fact]
    public void RNA3006_KmersSpellASpecialToken()
    {
        var json = Tiny(("tokenizer", "{ \"alphabet\": [\"<\", \"p\", \"a\", \"d\", \">\"], \"segmentation\": { \"kind\": \"kmer\", \"k\": 5 }, \"upper_case\": false }"));
        var d = Only(Parse(json), "RNA3006", Error, (11, 96), (11, 97));
        Assert.Equal("5", Covered(json, d));
        Assert.Equal("Invalid tokenizer vocabulary: the vocabulary holds \"<pad>\" twice: the alphabet's 5-mers spell the special token", Message(d));
    }

    [Fact]
    public void RNA3012_SpecialTokensLeaveNoRoom_FixedLength()
    {
        var json = Tiny(("tokenizer", "{ \"model_max_length\": 2 }"));
        var d = Only(Parse(json), "RNA3012", Error, (11, 38), (11, 39));
        Assert.Equal("2", Covered(json, d));
        Assert.Equal("The tokenizer adds 2 special token(s) (<cls> and <eos>) to every sequence, but model_max_length is 2, so no sequence token fits", Message(d));
    }

    [Fact]
    public void RNA3012_SpecialTokensLeaveNoRoom_VariantShrinksThePositions()
    {
        var json = Tiny(("tokenizer", "{ \"add_eos\": false }"), ("variants", "{ \"tiny\": {}, \"tiny.one\": { \"dims\": { \"max_positions\": 1 } } }"));
        var d = Only(Parse(json), "RNA3012", Error, (12, 70), (12, 71));
        Assert.Equal("1", Covered(json, d));
        Assert.Equal("The tokenizer adds 1 special token(s) (<cls>) to every sequence, but model_max_length is 1, so no sequence token fits", Message(d));
    }

    [Fact]
    public void RNA3013_TwoAliasesWriteTheSameReplacementForOverlappingPatterns()
    {
        var json = Tiny(("checkpoint", "{ \"prefix\": \"model\", \"aliases\": [ { \"pattern\": \"^enc\\\\.\", \"replacement\": \"model.encoder.\" }, { \"pattern\": \"^enc\\\\.layer\\\\.\", \"replacement\": \"model.encoder.\" } ] }"));
        var d = Only(Parse(json), "RNA3013", Error, (10, 157), (10, 173));
        Assert.Equal("\"model.encoder.\"", Covered(json, d));
        Assert.Equal("Checkpoint alias '^enc\\.layer\\.' can map two keys to one: it writes the same replacement 'model.encoder.' as checkpoint.aliases[0] ('^enc\\.'), and the two patterns match the same keys", Message(d));
    }

    [Fact]
    public void RNA3013_ALaterAliasRenamesWhatAnEarlierOneWrote()
    {
        var json = Tiny(("checkpoint", "{ \"prefix\": \"model\", \"aliases\": [ { \"pattern\": \"^old\\\\.\", \"replacement\": \"mid.\" }, { \"pattern\": \"^mid\\\\.\", \"replacement\": \"model.\" } ] }"));
        var d = Only(Parse(json), "RNA3013", Error, (10, 113), (10, 122));
        Assert.Equal("\"^mid\\\\.\"", Covered(json, d));
        Assert.Equal("Checkpoint alias '^mid\\.' can map two keys to one: it also matches 'mid.', which checkpoint.aliases[0] writes, so keys that alias renames are renamed again onto the keys this one renames", Message(d));
    }

    [Fact]
    public void RNA3013_ShippedStyleAliasesWithGroupsAreFine()
    {
        var json = Tiny(("checkpoint", "{ \"prefix\": \"model\", \"aliases\": [ { \"pattern\": \"^head\\\\.([0-7])\\\\.\", \"replacement\": \"head.blocks.$1.\" }, { \"pattern\": \"^head\\\\.8\\\\.\", \"replacement\": \"head.projection.\" } ] }"));
        AssertClean(Parse(json));
    }

    [Fact]
    public void RNA3014_SecondaryStructureHeadWithoutThePairPrior()
    {
        var json = Tiny(("heads", "{ \"secondary_structure\": {} }"));
        var d = Only(Parse(json), "RNA3014", Error, (11, 14), (11, 35));
        Assert.Equal("\"secondary_structure\"", Covered(json, d));
        Assert.Equal("'heads.secondary_structure' needs the carried attention logits of the pair prior, which the backbone does not produce: the family has no attention.biases.pair_prior", Message(d));
    }

    [Fact]
    public void RNA3014_SecondaryStructureHeadReadsAHeadThatDoesNotExist()
    {
        var json = Tiny(("attention", "{ \"biases\": { \"pair_prior\": {} } }"), ("heads", "{ \"secondary_structure\": { \"attention_head\": 4 } }"));
        var d = Only(Parse(json), "RNA3014", Error, (12, 57), (12, 58));
        Assert.Equal("4", Covered(json, d));
        Assert.Equal("'heads.secondary_structure.attention_head' needs attention head 4 of the last layer's carried logits, which the backbone does not produce: the model has 4 heads (0 to 3)", Message(d));
    }

    // ---------------------------------------------------------------- RNA3015: RNA type tokens

    [Fact]
    public void RNA3015_TypeListedTwice_AtTheSecondOccurrence()
    {
        var json = Tiny(("tokenizer", "{ \"rna_types\": { \"types\": [\"rRNA\", \"tRNA\", \"rRNA\"] } }"));
        var d = Only(Parse(json), "RNA3015", Error, (11, 59), (11, 65));
        Assert.Equal("\"rRNA\"", Covered(json, d));
        Assert.Equal("Invalid tokenizer.rna_types: type \"rRNA\" appears more than once", Message(d));
    }

    [Fact]
    public void RNA3015_TypeNameWithASpace()
    {
        var json = Tiny(("tokenizer", "{ \"rna_types\": { \"types\": [\"rRNA\", \"t RNA\"] } }"));
        var d = Only(Parse(json), "RNA3015", Error, (11, 51), (11, 58));
        Assert.Equal("\"t RNA\"", Covered(json, d));
        Assert.Equal("Invalid tokenizer.rna_types: type \"t RNA\" is not a name of letters, digits, '_', '-' and '.' starting with a letter or digit (at most 40 characters)", Message(d));
    }

    [Fact]
    public void RNA3015_IndicatorWithoutAngleBrackets()
    {
        var json = Tiny(("tokenizer", "{ \"rna_types\": { \"indicator\": \"IND\", \"types\": [\"rRNA\"] } }"));
        var d = Only(Parse(json), "RNA3015", Error, (11, 46), (11, 51));
        Assert.Equal("\"IND\"", Covered(json, d));
        Assert.Equal("Invalid tokenizer.rna_types: the indicator \"IND\" is not a token of the form <name> (a name of letters, digits, '_', '-' and '.', at most 40 characters)", Message(d));
    }

    [Fact]
    public void RNA3015_TypeTokenIsASpecialToken()
    {
        var json = Tiny(("tokenizer", "{ \"rna_types\": { \"types\": [\"rRNA\", \"mask\"] } }"));
        var d = Only(Parse(json), "RNA3015", Error, (11, 51), (11, 57));
        Assert.Equal("\"mask\"", Covered(json, d));
        Assert.Equal("Invalid tokenizer.rna_types: the token <mask> is already one of the six special tokens", Message(d));
    }

    [Fact]
    public void RNA3015_TypeTokenIsTheIndicator()
    {
        var json = Tiny(("tokenizer", "{ \"rna_types\": { \"indicator\": \"<x>\", \"types\": [\"x\"] } }"));
        var d = Only(Parse(json), "RNA3015", Error, (11, 63), (11, 66));
        Assert.Equal("\"x\"", Covered(json, d));
        Assert.Equal("Invalid tokenizer.rna_types: type \"x\" has the token <x>, which is the indicator", Message(d));
    }

    [Fact]
    public void RNA3015_EmptyTypeList()
    {
        var json = Tiny(("tokenizer", "{ \"rna_types\": { \"types\": [] } }"));
        var d = Only(Parse(json), "RNA3015", Error, (11, 42), (11, 44));
        Assert.Equal("[]", Covered(json, d));
        Assert.Equal("Invalid tokenizer.rna_types: the list of types is empty (write null for no type tokens)", Message(d));
    }

    [Fact]
    public void RNA3015_AVariantsTypeTokenCollides_AtTheVariantsValue()
    {
        var json = Tiny(("variants", "{ \"tiny\": {}, \"tiny.t\": { \"tokenizer\": { \"rna_types\": { \"types\": [\"A\", \"null\"] } } } }"));
        var d = Only(Parse(json), "RNA3015", Error, (11, 86), (11, 92));
        Assert.Equal("\"null\"", Covered(json, d));
        Assert.Equal("Invalid tokenizer.rna_types: the token <null> is already one of the six special tokens", Message(d));
    }

    [Fact]
    public void RNA2003_RnaTypesWithoutTypes_AtTheOpeningBrace()
    {
        var json = Tiny(("tokenizer", "{ \"rna_types\": { \"indicator\": \"<ind>\" } }"));
        var d = Only(Parse(json), "RNA2003", Error, (11, 31), (11, 32));
        Assert.Equal("Required field 'tokenizer.rna_types.types' is missing", Message(d));
    }

    [Fact]
    public void RnaTypesAreTheLastTokensOfTheVocabulary_AndAVariantMayDropThem()
    {
        var json = Tiny(("tokenizer", "{ \"alphabet\": \"rna-streamline\", \"rna_types\": { \"indicator\": \"<ty>\", \"types\": [\"rRNA\", \"tRNA\"] } }"),
            ("variants", "{ \"tiny\": {}, \"tiny.plain\": { \"tokenizer\": { \"rna_types\": null } } }"));
        var parsed = Parse(json);
        AssertClean(parsed);
        var typed = parsed.Spec!.Variants[0].Tokenizer;
        Assert.Equal(new[] { "<pad>", "<cls>", "<eos>", "<unk>", "<mask>", "<null>", "A", "C", "G", "U", "N", "<ty>", "<rRNA>", "<tRNA>" }, typed.Vocabulary.ToArray());
        Assert.Equal("<ty>", typed.RnaTypes!.Indicator);
        Assert.Equal(new[] { "rRNA", "tRNA" }, typed.RnaTypes.Types.ToArray());
        Assert.Equal(14, parsed.Spec.Variants[0].Dims.VocabSize);
        var plain = parsed.Spec.Variants[1].Tokenizer;
        Assert.Null(plain.RnaTypes);
        Assert.Equal(11, plain.Vocabulary.Count);
    }

    [Fact]
    public void RNA3014_AVariantWithFewerHeadsThanTheHeadReads()
    {
        var json = Tiny(("attention", "{ \"biases\": { \"pair_prior\": {} } }"), ("heads", "{ \"secondary_structure\": { \"attention_head\": 3 } }"),
            ("variants", "{ \"tiny\": {}, \"tiny.narrow\": { \"dims\": { \"heads\": 2 } } }"));
        var d = Only(Parse(json), "RNA3014", Error, (13, 65), (13, 66));
        Assert.Equal("2", Covered(json, d));
        Assert.Equal("'heads.secondary_structure.attention_head' needs attention head 3 of the last layer's carried logits, which the backbone does not produce: the model has 2 heads (0 to 1)", Message(d));
    }

    [Fact]
    public void RNA3014_SecondaryStructureArchitectureWithoutTheHead()
    {
        var json = Tiny(("architecture", "\"secondary_structure\""));
        var d = Only(Parse(json), "RNA3014", Error, (11, 19), (11, 40));
        Assert.Equal("\"secondary_structure\"", Covered(json, d));
        Assert.Equal("'architecture' needs the secondary-structure head, which the backbone does not produce: the family declares no heads.secondary_structure", Message(d));
    }

    [Fact]
    public void RNA3014_AttentionBiasesWithoutThePairPrior()
    {
        var json = Tiny(("output_attention_biases", "true"));
        var d = Only(Parse(json), "RNA3014", Error, (11, 30), (11, 34));
        Assert.Equal("true", Covered(json, d));
        Assert.Equal("'output_attention_biases' needs the attention biases of the pair prior, which the backbone does not produce: the family has no attention.biases.pair_prior", Message(d));
    }

    [Fact]
    public void RNA3014_UnfoldKmersWithoutAKmerTokenizer()
    {
        var json = Tiny(("heads", "{ \"token\": { \"unfold_kmers\": true } }"));
        var d = Only(Parse(json), "RNA3014", Error, (11, 41), (11, 45));
        Assert.Equal("true", Covered(json, d));
        Assert.Equal("'heads.token.unfold_kmers' needs overlapping k-mer tokens, which the backbone does not produce: neither the family nor any variant has tokenizer.segmentation kind \"kmer\" with k > 1 (set unfold_kmers to false)", Message(d));
    }

    [Fact]
    public void RNA3014_UnfoldKmersIsFineWhenOneVariantUsesKmers()
    {
        var json = Tiny(("heads", "{ \"token\": { \"unfold_kmers\": true } }"),
            ("variants", "{ \"tiny\": {}, \"tiny-3mer\": { \"tokenizer\": { \"segmentation\": { \"kind\": \"kmer\", \"k\": 3 } } } }"));
        AssertClean(Parse(json));
    }

    [Fact]
    public void RNA3014_UnfoldKmersWithAVariantOfCodons()
    {
        var json = Tiny(("heads", "{ \"token\": { \"unfold_kmers\": true } }"), ("tokenizer", "{ \"alphabet\": \"dna-streamline\", \"t_to_u\": false, \"u_to_t\": true }"),
            ("variants", "{ \"tiny-3mer\": { \"tokenizer\": { \"segmentation\": { \"kind\": \"kmer\", \"k\": 3 } } }, \"tiny-codon\": { \"tokenizer\": { \"segmentation\": \"codon\" } } }"));
        var d = Only(Parse(json), "RNA3014", Error, (13, 142), (13, 149));
        Assert.Equal("\"codon\"", Covered(json, d));
        Assert.Equal("'heads.token.unfold_kmers' needs overlapping k-mer tokens, which the backbone does not produce: codons do not overlap (segmentation kind \"codon\"); set unfold_kmers to false", Message(d));
    }

    [Fact]
    public void RNA3002_FinalNormKeyTakenByTheLayers()
    {
        var json = Tiny(("norm", "{ \"eps\": 1e-12, \"final\": \"layer\" }"));
        var d = Only(Parse(json), "RNA3002", Error, (6, 36), (6, 43));
        Assert.Equal("\"layer\"", Covered(json, d));
        Assert.Equal("'norm.final' must be a key the encoder does not use (\"layer\" holds the layers: encoder.layer.0, ...), but is \"layer\"", Message(d));
    }

    [Fact]
    public void RNA3005_AVariantThatMovesTheBaseIdsOfThePairPrior()
    {
        var json = Tiny(("attention", "{ \"biases\": { \"pair_prior\": {} } }"),
            ("variants", "{ \"tiny\": {}, \"tiny.reordered\": { \"tokenizer\": { \"alphabet\": [\"U\", \"G\", \"C\", \"A\"] } } }"));
        var d = Only(Parse(json), "RNA3005", Error, (12, 29), (12, 45));
        Assert.Equal("\"tiny.reordered\"", Covered(json, d));
        Assert.Equal("The attention pair prior cannot be used in variant 'tiny.reordered': its vocabulary gives A, C, G, U the ids 9, 8, 7, 6 but the family's gives 6, 7, 8, 9 (the generated pair map and secondary-structure head use one set of ids)", Message(d));
    }

    [Fact]
    public void RNA3008_SwitchKeyThatEveryConfigAlreadyHas()
    {
        var json = Tiny(("embeddings", "{ \"layer_norm\": { \"default\": true, \"config\": \"hidden_size\" } }"));
        var d = Only(Parse(json), "RNA3008", Error, (11, 62), (11, 75));
        Assert.Equal("\"hidden_size\"", Covered(json, d));
        Assert.Contains("it is already a field of every config (hidden_size)", Message(d), System.StringComparison.Ordinal);
    }

    [Fact]
    public void RNA3008_TwoSwitchesWithOneKey()
    {
        var json = Tiny(("embeddings", "{ \"layer_norm\": { \"default\": true, \"config\": \"norm_on\" }, \"token_dropout\": { \"default\": false, \"config\": \"norm_on\" } }"));
        var d = Only(Parse(json), "RNA3008", Error, (11, 122), (11, 131));
        Assert.Equal("\"norm_on\"", Covered(json, d));
        Assert.Contains("it is already the key of embeddings.layer_norm", Message(d), System.StringComparison.Ordinal);
    }

    [Fact]
    public void RNA3008_PretrainingHeadNamedLikeTheBackbone()
    {
        var json = Tiny(("pretraining_heads", "{ \"model\": { \"kind\": \"token\", \"num_labels\": 3 } }"));
        var d = Only(Parse(json), "RNA3008", Error, (11, 26), (11, 33));
        Assert.Equal("\"model\"", Covered(json, d));
        Assert.Contains("it is the backbone's key prefix (checkpoint.prefix)", Message(d), System.StringComparison.Ordinal);
    }

    [Fact]
    public void RNA2006_PresentOnAHeadThatIsNotOptional()
    {
        var json = Tiny(("pretraining_heads", "{ \"structure_head\": { \"kind\": \"token\", \"num_labels\": 3, \"present\": false } }"));
        var d = Only(Parse(json), "RNA2006", Error, (11, 80), (11, 89));
        Assert.Equal("\"present\"", Covered(json, d));
        Assert.Equal("'pretraining_heads.structure_head.present' is only allowed when 'pretraining_heads.structure_head.optional' is true", Message(d));
    }

    [Fact]
    public void RNA3103_PoolerActivationOtherThanTanh_IsAWarning()
    {
        var json = Tiny(("pooler", "{ \"in_checkpoint\": false, \"activation\": \"relu\" }"));
        var d = Only(Parse(json), "RNA3103", Warning, (9, 53), (9, 59));
        Assert.Equal("\"relu\"", Covered(json, d));
        Assert.Equal("pooler.activation is \"relu\"; BERT-style poolers use \"tanh\", so check that the checkpoints were trained with this activation", Message(d));
    }

    [Fact]
    public void RNA3005_PairPriorWithOneHead()
    {
        var json = Tiny(("dims", Dims(heads: "1")), ("attention", "{ \"biases\": { \"pair_prior\": {} } }"));
        var d = Only(Parse(json), "RNA3005", Error, (5, 49), (5, 50));
        Assert.Equal("1", Covered(json, d));
        Assert.Equal("The attention pair prior cannot be used with 1 attention head: its MLP 1 -> heads/2 -> heads needs at least 2 heads", Message(d));
    }

    [Fact]
    public void RNA3105_UnusualRotaryBase_IsAWarning()
    {
        var json = Tiny(("position", "{ \"kind\": \"rotary\", \"dim\": 16, \"base\": 100 }"));
        var d = Only(Parse(json), "RNA3105", Warning, (7, 54), (7, 57));
        Assert.Equal("100", Covered(json, d));
        Assert.Equal("The rotary base 100 is outside the usual range [1000, 1e7]", Message(d));
    }

    [Fact]
    public void RNA3106_LowerCaseLetterWithUpperCasing_IsAWarning()
    {
        var json = Tiny(("tokenizer", "{ \"alphabet\": [\"A\", \"C\", \"G\", \"U\", \"n\"] }"));
        var d = Only(Parse(json), "RNA3106", Warning, (11, 51), (11, 54));
        Assert.Equal("\"n\"", Covered(json, d));
        Assert.Equal("Alphabet entry \"n\" can never be produced from text: the tokenizer upper-cases text first (upper_case is true)", Message(d));
    }

    [Fact]
    public void RNA3106_TWithTToU_IsAWarning()
    {
        var json = Tiny(("tokenizer", "{ \"alphabet\": [\"A\", \"C\", \"G\", \"T\"] }"));
        var d = Only(Parse(json), "RNA3106", Warning, (11, 46), (11, 49));
        Assert.Equal("\"T\"", Covered(json, d));
        Assert.Equal("Alphabet entry \"T\" can never be produced from text: the tokenizer replaces T with U first (t_to_u is true)", Message(d));
    }

    [Fact]
    public void RNA3107_PoolerWithoutCls_IsAWarning()
    {
        var json = Tiny(("tokenizer", "{ \"add_bos\": false }"));
        var d = Only(Parse(json), "RNA3107", Warning, (11, 29), (11, 34));
        Assert.Equal("false", Covered(json, d));
        Assert.Equal("The pooler reads the first token, but the tokenizer adds no <cls> (add_bos is false), so sequence-level outputs pool the first nucleotide", Message(d));
    }

    [Fact]
    public void RNA3108_UnboundedLengthWithLearnedPositions_IsAWarning()
    {
        var json = Tiny(("tokenizer", "{ \"model_max_length\": null }"));
        var d = Only(Parse(json), "RNA3108", Warning, (11, 38), (11, 42));
        Assert.Equal("null", Covered(json, d));
        Assert.Equal("model_max_length is null (unbounded), but the 128 learned position embeddings only cover inputs of up to 128 tokens", Message(d));
    }

    // ---------------------------------------------------------------- RNA4xxx: extends

    [Fact]
    public void RNA4006_ExtendsAnUnknownSpec_WithSuggestion()
    {
        var other = SpecParser.ReadDocument("/specs/base.model.json", SourceText.From(Tiny(("name", "\"tinybase\""), ("type_name", "\"TinyBase\""))), CancellationToken.None);
        var json = Tiny(("extends", "\"tinybsae\""));
        var d = Only(SpecParser.Parse(TestPath, SourceText.From(json), new[] { other }, CancellationToken.None), "RNA4006", Error, (11, 14), (11, 24));
        Assert.Equal("\"tinybsae\"", Covered(json, d));
        Assert.Equal("The spec extends 'tinybsae', but no spec of this compilation declares that model name; did you mean 'tinybase'?", Message(d));
    }

    [Fact]
    public void RNA4006_ABaseExtendsAnUnknownSpec()
    {
        var middle = SpecParser.ReadDocument("/specs/mid.model.json", SourceText.From(Tiny(("name", "\"mid\""), ("type_name", "\"Mid\""), ("extends", "\"gone\""))), CancellationToken.None);
        var json = Tiny(("extends", "\"mid\""));
        var d = Only(SpecParser.Parse(TestPath, SourceText.From(json), new[] { middle }, CancellationToken.None), "RNA4006", Error, (11, 14), (11, 19));
        Assert.Equal("The spec extends 'gone', but no spec of this compilation declares that model name (the base of 'mid')", Message(d));
    }

    [Fact]
    public void RNA4007_ASpecExtendsItself()
    {
        var json = Tiny(("extends", "\"tiny\""));
        var d = Only(Parse(json), "RNA4007", Error, (11, 14), (11, 20));
        Assert.Equal("\"tiny\"", Covered(json, d));
        Assert.Equal("The spec extends 'tiny', which leads into a cycle: tiny -> tiny", Message(d));
    }

    [Fact]
    public void RNA4007_TwoSpecsExtendEachOther()
    {
        var other = SpecParser.ReadDocument("/specs/b.model.json", SourceText.From(Tiny(("name", "\"b\""), ("type_name", "\"B\""), ("extends", "\"tiny\""))), CancellationToken.None);
        var json = Tiny(("extends", "\"b\""));
        var d = Only(SpecParser.Parse(TestPath, SourceText.From(json), new[] { other }, CancellationToken.None), "RNA4007", Error, (11, 14), (11, 17));
        Assert.Equal("\"b\"", Covered(json, d));
        Assert.Equal("The spec extends 'b', which leads into a cycle: tiny -> b -> tiny", Message(d));
    }

    [Fact]
    public void RNA2002_ExtendsIsNotAString()
    {
        var json = Tiny(("extends", "[\"b\"]"));
        var d = Only(Parse(json), "RNA2002", Error, (11, 14), (11, 19));
        Assert.Equal("'extends' must be a string (the model name of another spec), but is an array", Message(d));
    }

    // ---------------------------------------------------------------- RNA9xxx

    [Fact]
    public void RNA9001_InternalError_AtTheStartOfTheFile()
    {
        var parsed = SpecParser.Parse(TestPath, new ThrowingText(), CancellationToken.None);
        Assert.Null(parsed.Spec);
        var d = Assert.Single(parsed.Diagnostics);
        Assert.Equal("RNA9001", d.Descriptor.Id);
        AssertAt(d, Error, (1, 1), (1, 1));
        Assert.Equal("The RnaLm generator failed on this spec: InvalidOperationException: the text cannot be read", Message(d));
    }

    /// <summary>A SourceText that fails when read, to exercise the parser's last-resort catch.</summary>
    private sealed class ThrowingText : SourceText
    {
        public override char this[int position] => throw new System.InvalidOperationException("the text cannot be read");

        public override System.Text.Encoding? Encoding => null;

        public override int Length => 10;

        public override void CopyTo(int sourceIndex, char[] destination, int destinationIndex, int count) =>
            throw new System.InvalidOperationException("the text cannot be read");
    }
}
