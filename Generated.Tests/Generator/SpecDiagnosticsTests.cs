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
/// 6 norm, 7 embeddings, 8 feed_forward, 9 pooler, 10 checkpoint, then added fields from line 11.
/// </summary>
public class SpecDiagnosticsTests
{
    private const DiagnosticSeverity Error = DiagnosticSeverity.Error;
    private const DiagnosticSeverity Warning = DiagnosticSeverity.Warning;

    private static string Dims(string hidden = "64", string layers = "2", string heads = "4", string intermediate = "128", string extra = "") =>
        "{ \"hidden\": " + hidden + ", \"layers\": " + layers + ", \"heads\": " + heads + ", \"intermediate\": " + intermediate + extra + " }";

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
        var d = Only(Parse(json), "RNA1001", Error, (5, 73), (5, 74));
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
        var json = Tiny(("dims", "{ \"hidden\": 64, \"layers\": 2, \"intermediate\": 128 }"));
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
    public void RNA2003_RotaryBlockRequiredForRotaryPositions()
    {
        var json = Tiny(("embeddings", "{ \"position\": { \"kind\": \"rotary\" } }"));
        var d = Only(Parse(json), "RNA2003", Error, (7, 31), (7, 32));
        Assert.Equal("{", Covered(json, d));
        Assert.Equal("Required field 'embeddings.position.rotary' is missing", Message(d));
    }

    [Fact]
    public void RNA2004_InvalidEnumValue()
    {
        var json = Tiny(("norm", "{ \"placement\": \"middle\", \"eps\": 1e-12 }"));
        var d = Only(Parse(json), "RNA2004", Error, (6, 26), (6, 34));
        Assert.Equal("\"middle\"", Covered(json, d));
        Assert.Equal("'norm.placement' has the invalid value \"middle\"; allowed values are \"post\", \"pre\"", Message(d));
    }

    [Fact]
    public void RNA2004_InvalidKeywordOfAMixedField()
    {
        var json = Tiny(("dims", Dims(extra: ", \"vocab_size\": \"from_vocab\"")));
        var d = Only(Parse(json), "RNA2004", Error, (5, 87), (5, 99));
        Assert.Equal("\"from_vocab\"", Covered(json, d));
        Assert.Equal("'dims.vocab_size' has the invalid value \"from_vocab\"; allowed values are a positive integer or \"from_tokenizer\"", Message(d));
    }

    [Fact]
    public void RNA2005_UnsupportedSpecVersion_StopsEverythingElse()
    {
        var json = Tiny(("spec_version", "2"), ("dims", "{}"));
        var d = Only(Parse(json), "RNA2005", Error, (2, 19), (2, 20));
        Assert.Equal("2", Covered(json, d));
        Assert.Equal("spec_version 2 is not supported; this generator reads spec language version 1", Message(d));
    }

    [Fact]
    public void RNA2006_FieldNotAllowedForThePositionKind()
    {
        var json = Tiny(("embeddings", "{ \"position\": { \"kind\": \"learned\", \"max\": 128, \"sinusoidal\": {} } }"));
        var d = Only(Parse(json), "RNA2006", Error, (7, 64), (7, 76));
        Assert.Equal("\"sinusoidal\"", Covered(json, d));
        Assert.Equal("'embeddings.position.sinusoidal' is only allowed when 'embeddings.position.kind' is \"sinusoidal\"", Message(d));
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
        Assert.Equal("The tokenizer's model_max_length 256 is larger than the 128 learned position embeddings (embeddings.position.max)", Message(d));
    }

    [Fact]
    public void RNA3003_CausedByAVariantShrinkingThePositions()
    {
        var json = Tiny(("tokenizer", "{ \"model_max_length\": 128 }"), ("variants", "{ \"tiny.short\": { \"embeddings\": { \"position\": { \"max\": 64 } } } }"));
        var d = Only(Parse(json), "RNA3003", Error, (12, 70), (12, 72));
        Assert.Equal("64", Covered(json, d));
        Assert.Equal("The tokenizer's model_max_length 128 is larger than the 64 learned position embeddings (embeddings.position.max)", Message(d));
    }

    [Fact]
    public void RNA3004_RotaryDimOdd()
    {
        var json = Tiny(("embeddings", "{ \"position\": { \"kind\": \"rotary\", \"rotary\": { \"dim\": 15 } } }"));
        var d = Only(Parse(json), "RNA3004", Error, (7, 70), (7, 72));
        Assert.Equal("15", Covered(json, d));
        Assert.Equal("The rotary dimension 15 is invalid: it must be even (features rotate in pairs)", Message(d));
    }

    [Fact]
    public void RNA3004_RotaryDimLargerThanTheHeadSize()
    {
        var json = Tiny(("embeddings", "{ \"position\": { \"kind\": \"rotary\", \"rotary\": { \"dim\": 32 } } }"));
        var d = Only(Parse(json), "RNA3004", Error, (7, 70), (7, 72));
        Assert.Equal("The rotary dimension 32 is invalid: it is larger than the head size 16 (hidden size 64 / 4 heads)", Message(d));
    }

    [Fact]
    public void RNA3005_PairPriorWithSoftmaxOverQueries()
    {
        var json = Tiny(("attention", "{ \"softmax\": \"queries\", \"pair_prior\": {} }"));
        var d = Only(Parse(json), "RNA3005", Error, (11, 29), (11, 38));
        Assert.Equal("\"queries\"", Covered(json, d));
        Assert.Equal("The attention pair prior cannot be used with softmax \"queries\"; it needs softmax \"keys\"", Message(d));
    }

    [Fact]
    public void RNA3005_PairPriorWithoutACGU()
    {
        var json = Tiny(("attention", "{ \"pair_prior\": {} }"), ("tokenizer", "{ \"alphabet\": [\"A\", \"C\", \"G\", \"T\"] }"));
        var d = Only(Parse(json), "RNA3005", Error, (12, 30), (12, 50));
        Assert.Equal("[\"A\", \"C\", \"G\", \"T\"]", Covered(json, d));
        Assert.Equal("The attention pair prior cannot be used with a vocabulary that lacks the single-letter tokens A, C, G and U", Message(d));
    }

    [Fact]
    public void RNA3005_PairPriorWithKmersInAVariant()
    {
        var json = Tiny(("attention", "{ \"pair_prior\": {} }"), ("variants", "{ \"tiny.kmer\": { \"tokenizer\": { \"nmers\": 3 } } }"));
        var d = Only(Parse(json), "RNA3005", Error, (12, 56), (12, 57));
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
        var json = Tiny(("tokenizer", "{ \"alphabet\": \"rna-standard-28\", \"nmers\": 4 }"));
        var d = Only(Parse(json), "RNA3006", Error, (11, 58), (11, 59));
        Assert.Equal("4", Covered(json, d));
        Assert.Equal("Invalid tokenizer vocabulary: the 4-mer vocabulary of a 22-letter alphabet has more than 65536 tokens", Message(d));
    }

    [Fact]
    public void RNA3007_UnknownAlphabet()
    {
        var json = Tiny(("tokenizer", "{ \"alphabet\": \"dna\" }"));
        var d = Only(Parse(json), "RNA3007", Error, (11, 30), (11, 35));
        Assert.Equal("\"dna\"", Covered(json, d));
        Assert.Equal("Unknown alphabet 'dna'; use \"rna-standard-28\", \"rna-legacy-26\", \"rna-streamline\" or an array of single letters", Message(d));
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
        var d = Only(Parse(json), "RNA3010", Error, (5, 87), (5, 89));
        Assert.Equal("20", Covered(json, d));
        Assert.Equal("dims.vocab_size 20 is smaller than the 28 tokens of the tokenizer vocabulary", Message(d));
    }

    [Fact]
    public void RNA3011_PositionsLengthWithoutPositionEmbeddings()
    {
        var json = Tiny(("embeddings", "{ \"position\": { \"kind\": \"none\" } }"), ("tokenizer", "{ \"model_max_length\": \"positions\" }"));
        var d = Only(Parse(json), "RNA3011", Error, (11, 38), (11, 49));
        Assert.Equal("\"positions\"", Covered(json, d));
        Assert.Equal("model_max_length \"positions\" needs a positive embeddings.position.max", Message(d));
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
        var d = Only(Parse(json), "RNA3102", Warning, (5, 87), (5, 89));
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
        var json = Tiny(("variants", "{ \"tiny.pre\": { \"norm\": { \"placement\": \"pre\" } } }"));
        var d = Only(Parse(json), "RNA4002", Error, (11, 41), (11, 52));
        Assert.Equal("\"placement\"", Covered(json, d));
        Assert.Equal("Variants may only change configuration values; architecture field 'norm.placement' must be changed in a separate spec", Message(d));
    }

    [Fact]
    public void RNA4002_VariantRemovesABlock()
    {
        var json = Tiny(("attention", "{ \"pair_prior\": {} }"), ("variants", "{ \"tiny.plain\": { \"attention\": { \"pair_prior\": null } } }"));
        var d = Only(Parse(json), "RNA4002", Error, (12, 48), (12, 60));
        Assert.Equal("\"pair_prior\"", Covered(json, d));
        Assert.Equal("Variants may only change configuration values; architecture field 'attention.pair_prior' must be changed in a separate spec", Message(d));
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
        var json = Tiny(("variants", "{ \"tiny.x\": { \"attention\": { \"pair_prior\": { \"alpha\": 0.5 } } } }"));
        var d = Only(Parse(json), "RNA4005", Error, (11, 60), (11, 67));
        Assert.Equal("\"alpha\"", Covered(json, d));
        Assert.Equal("Variant 'tiny.x' sets 'attention.pair_prior.alpha', but 'attention.pair_prior' is null in this spec", Message(d));
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
