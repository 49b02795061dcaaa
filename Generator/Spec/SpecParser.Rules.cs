using System;
using System.Collections.Generic;
using System.Linq;
using RnaLm.Generator.Kinds;
using System.Collections.Immutable;
using System.Text.RegularExpressions;
using Microsoft.CodeAnalysis.Text;
using RnaLm.Generator.Diagnostics;
using RnaLm.Generator.Json;
using RnaLm.Generator.Model;

namespace RnaLm.Generator.Spec;

// Pass 3: model rules (models.md §7.2), run on the family and on every resolved variant, plus the
// checkpoint section and the final assembly of the ModelSpec.
internal sealed partial class SpecParser
{
    /// <summary>
    /// Checks the rules that combine configuration values (the kinds' own rules included) and resolves the tokenizer.
    /// Returns the tokenizer when every value it needs is valid (null otherwise, with diagnostics reported unless they
    /// were reported earlier).
    /// </summary>
    private TokenizerSpec? CheckConfig(SpecConfig c, bool isVariant, TextSpan fallback)
    {
        // Rule 1: hidden % heads == 0, reported at "heads".
        if (c.Hidden is { } hidden && c.Heads is { } heads && hidden.Value % heads.Value != 0)
        {
            ReportRule(isVariant, fallback, DiagnosticDescriptors.HiddenNotDivisibleByHeads,
                new[] { heads.Origin, hidden.Origin }, Str(hidden.Value), Str(heads.Value));
        }

        // A position kind that sizes a table needs max_positions.
        if (_position?.Kind is PositionKind { NeedsMaxPositions: true } positionKind && c.MaxPositions is { Value: < 1 } noPositions)
        {
            if (noPositions.Span is null)
            {
                if (!isVariant) Report(DiagnosticDescriptors.MissingRequiredField, _spans.TryGetValue("dims", out var dims) ? dims : fallback, "dims.max_positions");
            }
            else
            {
                ReportRule(isVariant, fallback, DiagnosticDescriptors.ValueOutOfRange, new[] { noPositions.Origin },
                    "dims.max_positions", "a positive integer (position kind \"" + positionKind.Name + "\" sizes a table with it)", Str(noPositions.Value));
            }
        }

        // The vocabulary: six special tokens and the (k-mer) alphabet.
        ImmutableArray<string> vocabulary = default;
        string alphabetName = "";
        Origin alphabetOrigin = default;
        int nmers = c.Segmentation is { } seg ? ((SegmentationKind)seg.Value.Kind).Nmers(seg.Value) : 1;
        if (c.Segmentation is { } kmerSegmentation && kmerSegmentation.Value.Kind is KmerSegmentationKind && nmers > 1) _anyKmerConfig = true;
        if (_unfoldKmersSpan is { } unfold && c.Segmentation is { } codonSegmentation && codonSegmentation.Value.Kind is CodonSegmentationKind)
        {
            ReportRule(isVariant, fallback, DiagnosticDescriptors.HeadInputMissing, new[] { codonSegmentation.Origin, new Origin(unfold, false) },
                "heads.token.unfold_kmers", "overlapping k-mer tokens", "codons do not overlap (segmentation kind \"codon\"); set unfold_kmers to false");
        }
        if (c.Alphabet is { } alphabet && c.Segmentation is { } segmentation && c.UToT is { } uToT)
        {
            alphabetOrigin = alphabet.Origin;
            string defaultName = Vocabularies.DefaultAlphabet(nmers, uToT.Value);
            var choice = alphabet.Value ?? new AlphabetChoice(defaultName, Vocabularies.Alphabets[defaultName]);
            alphabetName = choice.Name;
            if (Vocabularies.Size(choice.Letters.Length, nmers) < 0)
            {
                ReportRule(isVariant, fallback, DiagnosticDescriptors.InvalidVocabulary, new[] { segmentation.Origin, alphabet.Origin },
                    "the " + Str(nmers) + "-mer vocabulary of a " + Str(choice.Letters.Length) + "-letter alphabet has more than "
                    + Str(Vocabularies.MaxVocabularySize) + " tokens");
            }
            else
            {
                vocabulary = Vocabularies.Build(choice.Letters, nmers);
                // Distinct letters give distinct k-mers, but a k-mer can spell a special token ("<pad>" from '<' 'p' 'a' 'd' '>').
                var seen = new System.Collections.Generic.HashSet<string>(StringComparer.Ordinal);
                foreach (var token in vocabulary)
                {
                    if (seen.Add(token)) continue;
                    ReportRule(isVariant, fallback, DiagnosticDescriptors.InvalidVocabulary, new[] { segmentation.Origin, alphabet.Origin },
                        "the vocabulary holds \"" + token + "\" twice: the alphabet's " + Str(nmers) + "-mers spell the special token");
                    vocabulary = default;
                    break;
                }
            }

            // Letters that text can never produce (the tokenizer upper-cases and/or rewrites T or U first).
            if (!vocabulary.IsDefault && c.UpperCase is { } upperCase && c.TToU is { } mapsT)
            {
                for (int i = 0; i < choice.LetterSpans.Length && i < choice.Letters.Length; i++)
                {
                    string letter = choice.Letters[i];
                    string? reason = null;
                    Origin because = default;
                    if (upperCase.Value && letter != letter.ToUpperInvariant())
                    {
                        reason = "the tokenizer upper-cases text first (upper_case is true)";
                        because = upperCase.Origin;
                    }
                    else if (mapsT.Value && letter == "T")
                    {
                        reason = "the tokenizer replaces T with U first (t_to_u is true)";
                        because = mapsT.Origin;
                    }
                    else if (uToT.Value && letter == "U")
                    {
                        reason = "the tokenizer replaces U with T first (u_to_t is true)";
                        because = uToT.Origin;
                    }
                    if (reason is null) continue;
                    ReportRule(isVariant, fallback, DiagnosticDescriptors.UnreachableVocabularyEntry,
                        new[] { new Origin(choice.LetterSpans[i], alphabet.Overridden), because }, JsonString.Quote(letter), reason);
                }
            }
        }

        // RNA type tokens come last, after the alphabet; each must be new to the vocabulary.
        RnaTypesSpec? rnaTypes = null;
        if (!vocabulary.IsDefault && c.RnaTypes is { } typesValue && typesValue.Value is { } types)
        {
            var tokens = new List<(string Token, TextSpan Span)> { (types.Indicator, types.IndicatorSpan) };
            for (int i = 0; i < types.Types.Length; i++) tokens.Add((RnaTypesChoice.TokenOf(types.Types[i]), types.TypeSpans[i]));
            var existing = new HashSet<string>(vocabulary, StringComparer.Ordinal);
            bool clash = false;
            foreach (var (token, span) in tokens)
            {
                if (!existing.Contains(token)) continue;
                string what = Vocabularies.SpecialTokens.Contains(token) ? "one of the six special tokens" : "a token of the alphabet's vocabulary";
                ReportRule(isVariant, fallback, DiagnosticDescriptors.InvalidRnaTypes,
                    new[] { new Origin(span, typesValue.Overridden), alphabetOrigin, c.Segmentation!.Value.Origin },
                    "the token " + token + " is already " + what);
                clash = true;
            }
            if (!clash && vocabulary.Length + tokens.Count > Vocabularies.MaxVocabularySize)
            {
                ReportRule(isVariant, fallback, DiagnosticDescriptors.InvalidRnaTypes, new[] { typesValue.Origin },
                    "with " + Str(tokens.Count) + " type tokens the vocabulary has more than " + Str(Vocabularies.MaxVocabularySize) + " tokens");
                clash = true;
            }
            if (clash)
            {
                vocabulary = default;
            }
            else
            {
                vocabulary = vocabulary.AddRange(tokens.Select(t => t.Token));
                rnaTypes = new RnaTypesSpec(types.Indicator, types.Types.ToEquatableArray());
            }
        }

        // T→U and U→T together would rewrite one into the other and back.
        if (c.TToU is { Value: true } tu && c.UToT is { Value: true } ut)
        {
            ReportRule(isVariant, fallback, DiagnosticDescriptors.ValueOutOfRange, new[] { ut.Origin, tu.Origin },
                "tokenizer.u_to_t", "false while t_to_u is true (set t_to_u to false for a DNA vocabulary)", "true");
        }

        // Rule 6: vocab_size matches the vocabulary.
        if (!vocabulary.IsDefault && c.VocabSize is { Value: { } vocabSize } explicitSize)
        {
            var operands = new[] { explicitSize.Origin, alphabetOrigin, c.Segmentation!.Value.Origin };
            if (vocabSize < vocabulary.Length)
            {
                ReportRule(isVariant, fallback, DiagnosticDescriptors.VocabSizeTooSmall, operands, Str(vocabSize), Str(vocabulary.Length));
            }
            else if (vocabSize > vocabulary.Length)
            {
                ReportRule(isVariant, fallback, DiagnosticDescriptors.VocabSizeLargerThanVocabulary, operands, Str(vocabSize), Str(vocabulary.Length));
            }
        }

        // The kinds' own rules, on the values this family or variant resolves to.
        var rules = new Rules(this, c, isVariant, fallback, vocabulary);
        foreach (var (path, spec) in FamilyKinds())
        {
            spec.Kind.Check(rules, Resolve(spec, path, c));
        }

        // The secondary-structure head reads one head of the carried logits: it must exist.
        if (_secondaryStructure is not null && _biases.Any(b => ((AttentionBiasKind)b.Kind).CarriesLogits)
            && _ssAttentionHead is { } ssHead && c.Heads is { } modelHeads && ssHead.Value >= modelHeads.Value)
        {
            ReportRule(isVariant, fallback, DiagnosticDescriptors.HeadInputMissing,
                new[] { ssHead.Origin, modelHeads.Origin, new Origin(_secondaryStructureName, false) },
                "heads.secondary_structure.attention_head", "attention head " + Str(ssHead.Value) + " of the last layer's carried logits",
                "the model has " + Str(modelHeads.Value) + " heads (0 to " + Str(modelHeads.Value - 1) + ")");
        }

        // Rule 4: the tokenizer's length fits what the position kind supports; "positions" needs positions.
        int? usable = UsableTokens(c);
        if (c.ModelMaxLength is { } maxLength && c.MaxPositions is { } positions && _position?.Kind is PositionKind kind
            && !(kind.NeedsMaxPositions && positions.Value < 1))
        {
            bool bounded = kind.UsableTokens(_position) is not null;
            if (maxLength.Value.Kind == MaxLengthKind.Fixed && bounded && usable is int limitTokens && maxLength.Value.Value > limitTokens)
            {
                ReportRule(isVariant, fallback, DiagnosticDescriptors.MaxLengthExceedsPositions,
                    new[] { maxLength.Origin, positions.Origin }, Str(maxLength.Value.Value), Str(limitTokens));
            }
            else if (maxLength.Value.Kind == MaxLengthKind.FromPositions && (usable ?? positions.Value) <= 0)
            {
                ReportRule(isVariant, fallback, DiagnosticDescriptors.MaxLengthWithoutPositions,
                    new[] { maxLength.Origin, positions.Origin });
            }
            else if (maxLength.Value.Kind == MaxLengthKind.Unbounded && bounded)
            {
                ReportRule(isVariant, fallback, DiagnosticDescriptors.UnboundedLengthWithLearnedPositions,
                    new[] { maxLength.Origin, positions.Origin }, Str(usable ?? positions.Value));
            }
            else if (c.AddBos is { } bos && c.AddEos is { } eos && (bos.Value || eos.Value)
                && maxLength.Value.Resolve(usable ?? positions.Value) is int limit && limit > 0)
            {
                // model_max_length counts the special tokens (the tokenizer truncates to it, specials included).
                int specials = (bos.Value ? 1 : 0) + (eos.Value ? 1 : 0);
                if (limit <= specials)
                {
                    var lengthOrigins = maxLength.Value.Kind == MaxLengthKind.FromPositions
                        ? new[] { positions.Origin, maxLength.Origin, bos.Origin, eos.Origin }
                        : new[] { maxLength.Origin, bos.Origin, eos.Origin };
                    ReportRule(isVariant, fallback, DiagnosticDescriptors.NoRoomForSequence, lengthOrigins,
                        Str(specials), bos.Value && eos.Value ? "<cls> and <eos>" : bos.Value ? "<cls>" : "<eos>", Str(limit));
                }
            }
        }

        // The pooler reads h[:, 0], which is <cls> only when the tokenizer adds it.
        if (c.AddBos is { Value: false } noBos)
        {
            ReportRule(isVariant, fallback, DiagnosticDescriptors.PoolerWithoutCls, new[] { noBos.Origin });
        }

        if (vocabulary.IsDefault || c.AddBos is not { } addBos || c.AddEos is not { } addEos || c.UpperCase is not { } upper
            || c.TToU is not { } tToU || c.UToT is not { } uToT2 || c.ModelMaxLength is not { } length || c.Segmentation is not { } segmentationValue
            || c.RnaTypes is null)
        {
            return null;
        }
        return new TokenizerSpec(alphabetName, vocabulary.ToEquatableArray(), segmentationValue.Value,
            addBos.Value, addEos.Value, upper.Value, tToU.Value, uToT2.Value, length.Value, rnaTypes);
    }

    /// <summary>What "positions" means for the position kind: its usable tokens at this config's max_positions (null: the max itself).</summary>
    private int? UsableTokens(SpecConfig c)
    {
        if (_position?.Kind is not PositionKind kind || c.MaxPositions is not { } positions) return null;
        var formula = kind.UsableTokens(_position);
        if (formula is null) return null;
        long value = formula.Evaluate(new Dictionary<string, long> { ["p"] = positions.Value });
        return value < int.MinValue ? int.MinValue : value > int.MaxValue ? int.MaxValue : (int)value;
    }

    /// <summary>A family kind with this config's values of its configuration fields.</summary>
    private static KindSpec Resolve(KindSpec spec, string path, SpecConfig c)
    {
        foreach (var field in spec.Kind.Fields)
        {
            if (!field.Overridable) continue;
            if (c.KindFields.TryGetValue(path + "." + field.Name, out var value) && value is { } v) spec = spec.With(field.Name, v.Value);
        }
        return spec;
    }

    /// <summary>The view of the configuration the kinds' rules get (<see cref="KindRules"/>).</summary>
    private sealed class Rules : KindRules
    {
        private readonly SpecParser _parser;
        private readonly SpecConfig _config;
        private readonly bool _isVariant;
        private readonly TextSpan _fallback;
        private readonly ImmutableArray<string> _vocabulary;

        public Rules(SpecParser parser, SpecConfig config, bool isVariant, TextSpan fallback, ImmutableArray<string> vocabulary)
        {
            _parser = parser;
            _config = config;
            _isVariant = isVariant;
            _fallback = fallback;
            _vocabulary = vocabulary;
        }

        public override bool IsVariant => _isVariant;

        public override object? Value(string path)
        {
            switch (path)
            {
                case "dims.hidden": return _config.Hidden?.Value;
                case "dims.layers": return _config.Layers?.Value;
                case "dims.heads": return _config.Heads?.Value;
                case "dims.intermediate": return _config.Intermediate?.Value;
                case "dims.max_positions": return _config.MaxPositions?.Value;
                case "attention.softmax": return _parser._softmax?.KindName;
                case "tokenizer.vocabulary": return _vocabulary;
            }
            if (_config.KindFields.TryGetValue(path, out var value)) return value?.Value;
            foreach (var (slotPath, spec) in _parser.FamilyKinds())
            {
                if (path.StartsWith(slotPath + ".", StringComparison.Ordinal)) return spec.GetOrNull(path.Substring(slotPath.Length + 1));
            }
            return null;
        }

        public override Origin Origin(string path)
        {
            switch (path)
            {
                case "dims.hidden": return _config.Hidden?.Origin ?? default;
                case "dims.layers": return _config.Layers?.Origin ?? default;
                case "dims.heads": return _config.Heads?.Origin ?? default;
                case "dims.intermediate": return _config.Intermediate?.Origin ?? default;
                case "dims.max_positions": return _config.MaxPositions?.Origin ?? default;
                case "tokenizer.alphabet": return _config.Alphabet?.Origin ?? default;
                case "tokenizer.segmentation": return _config.Segmentation?.Origin ?? default;
            }
            if (_config.KindFields.TryGetValue(path, out var value) && value is { } v) return v.Origin;
            return _parser._spans.TryGetValue(path, out var span) ? new Origin(span, false) : default;
        }

        public override void Report(Microsoft.CodeAnalysis.DiagnosticDescriptor descriptor, string[] operandPaths, params string[] args) =>
            _parser.ReportRule(_isVariant, _fallback, descriptor, operandPaths.Select(Origin).ToArray(), args);
    }

    private void ReadCheckpoint(JsonObject root)
    {
        const string path = "checkpoint";
        var checkpoint = Section(root, "", path, required: true);
        if (checkpoint is null) return;
        bool ok = true;

        string prefix = "";
        if (Required(checkpoint, path, "prefix") is { } prefixProperty && ReadString(prefixProperty.Value, path + ".prefix") is { } prefixValue)
        {
            prefix = prefixValue.Value;
            if (!NameRules.IsPlainIdentifier(prefix))
            {
                Report(DiagnosticDescriptors.InvalidIdentifier, prefixProperty.ValueSpan, "checkpoint.prefix", prefix, NameRules.PrefixRule);
            }
        }
        else
        {
            ok = false;
        }

        var legacy = ImmutableArray.CreateBuilder<string>();
        foreach (var (item, itemPath) in Items(checkpoint, path, "legacy_prefixes"))
        {
            if (ReadString(item, itemPath) is not { } value) continue;
            if (!NameRules.IsPlainIdentifier(value.Value))
            {
                Report(DiagnosticDescriptors.InvalidIdentifier, item.Span, itemPath, value.Value, NameRules.PrefixRule);
                continue;
            }
            legacy.Add(value.Value);
        }

        var aliases = ImmutableArray.CreateBuilder<AliasSpec>();
        var written = new System.Collections.Generic.List<(Val<string> Pattern, Val<string> Replacement, string Path)>();
        foreach (var (item, itemPath) in Items(checkpoint, path, "aliases"))
        {
            if (AsObject(item, itemPath) is not { } alias) continue;
            CheckFields(alias, path + ".aliases", itemPath);
            var pattern = Required(alias, itemPath, "pattern");
            var replacement = Required(alias, itemPath, "replacement");
            var patternValue = pattern is null ? null : ReadString(pattern.Value, itemPath + ".pattern");
            var replacementValue = replacement is null ? null : ReadString(replacement.Value, itemPath + ".replacement");
            if (patternValue is { } p && replacementValue is { } r && CheckAlias(p, r))
            {
                aliases.Add(new AliasSpec(p.Value, r.Value));
                written.Add((p, r, itemPath));
            }
        }
        CheckAliasCollisions(written);

        var tied = ImmutableArray.CreateBuilder<TiedSpec>();
        foreach (var (item, itemPath) in Items(checkpoint, path, "tied"))
        {
            if (AsObject(item, itemPath) is not { } tie) continue;
            CheckFields(tie, path + ".tied", itemPath);
            var key = Required(tie, itemPath, "key") is { } k ? ReadString(k.Value, itemPath + ".key", nonEmpty: true) : null;
            var source = Required(tie, itemPath, "source") is { } s ? ReadString(s.Value, itemPath + ".source", nonEmpty: true) : null;
            if (key is { } kv && source is { } sv) tied.Add(new TiedSpec(kv.Value, sv.Value));
        }

        var ignore = ImmutableArray.CreateBuilder<string>();
        foreach (var (item, itemPath) in Items(checkpoint, path, "ignore"))
        {
            if (ReadString(item, itemPath, nonEmpty: true) is { } value) ignore.Add(value.Value);
        }

        if (ok)
        {
            _checkpoint = new CheckpointSpec(prefix, legacy.ToEquatableArray(), aliases.ToEquatableArray(), tied.ToEquatableArray(), ignore.ToEquatableArray());
        }
    }

    /// <summary>The items of an optional array property with their display paths ("checkpoint.tied[1]").</summary>
    private ImmutableArray<(JsonNode Item, string Path)> Items(JsonObject obj, string objPath, string name)
    {
        var property = obj.Find(name);
        if (property is null) return ImmutableArray<(JsonNode, string)>.Empty;
        string path = SpecSchema.Join(objPath, name);
        if (property.Value is not JsonArray array)
        {
            Report(DiagnosticDescriptors.WrongValueType, property.ValueSpan, path, "an array", property.Value.Describe());
            return ImmutableArray<(JsonNode, string)>.Empty;
        }
        var builder = ImmutableArray.CreateBuilder<(JsonNode, string)>(array.Items.Length);
        for (int i = 0; i < array.Items.Length; i++) builder.Add((array.Items[i], path + "[" + Str(i) + "]"));
        return builder.MoveToImmutable();
    }

    /// <summary>RNA3009 when the pattern is not a .NET regex or the replacement names a group it lacks.</summary>
    private bool CheckAlias(Val<string> pattern, Val<string> replacement)
    {
        Regex regex;
        try
        {
            regex = new Regex(pattern.Value, RegexOptions.CultureInvariant, TimeSpan.FromSeconds(1));
        }
        catch (ArgumentException e)
        {
            Report(DiagnosticDescriptors.InvalidCheckpointAlias, pattern.Span!.Value, pattern.Value, e.Message);
            return false;
        }

        string r = replacement.Value;
        for (int i = 0; i < r.Length - 1; i++)
        {
            if (r[i] != '$') continue;
            char next = r[i + 1];
            if (next == '$')
            {
                i++;
                continue;
            }
            string? group = null;
            bool exists = true;
            if (next >= '0' && next <= '9')
            {
                // .NET reads the longest digit run that names a group; the first digit must at least.
                group = "$" + next;
                exists = Array.IndexOf(regex.GetGroupNumbers(), next - '0') >= 0;
            }
            else if (next == '{')
            {
                int close = r.IndexOf('}', i + 2);
                if (close < 0) continue;
                string name = r.Substring(i + 2, close - i - 2);
                group = "${" + name + "}";
                exists = int.TryParse(name, System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out int number)
                    ? Array.IndexOf(regex.GetGroupNumbers(), number) >= 0
                    : regex.GroupNumberFromName(name) >= 0;
            }
            if (!exists)
            {
                Report(DiagnosticDescriptors.InvalidCheckpointAlias, replacement.Span!.Value, pattern.Value,
                    "the replacement refers to group '" + group + "', which the pattern does not define");
                return false;
            }
        }
        return true;
    }

    /// <summary>
    /// RNA3013. Aliases run in order, each on the result of the previous one, so two keys meet when:
    /// (1) two aliases write the same replacement and their patterns overlap (the patterns are equal, or one of
    /// them is a literal whose text the other matches), or (2) a later alias's pattern matches what an earlier
    /// alias writes (its replacement, group references read as "0"), so keys the earlier one renames are renamed
    /// again onto the keys the later one renames directly. Reported at the later alias's replacement (1) or
    /// pattern (2).
    /// </summary>
    private void CheckAliasCollisions(System.Collections.Generic.List<(Val<string> Pattern, Val<string> Replacement, string Path)> aliases)
    {
        for (int j = 1; j < aliases.Count; j++)
        {
            var later = aliases[j];
            var laterRegex = new Regex(later.Pattern.Value, RegexOptions.CultureInvariant, TimeSpan.FromSeconds(1));
            for (int i = 0; i < j; i++)
            {
                var earlier = aliases[i];
                var earlierRegex = new Regex(earlier.Pattern.Value, RegexOptions.CultureInvariant, TimeSpan.FromSeconds(1));
                if (earlier.Replacement.Value == later.Replacement.Value
                    && (earlier.Pattern.Value == later.Pattern.Value
                        || Matches(laterRegex, LiteralText(earlier.Pattern.Value))
                        || Matches(earlierRegex, LiteralText(later.Pattern.Value))))
                {
                    Report(DiagnosticDescriptors.CheckpointAliasCollision, later.Replacement.Span!.Value, later.Pattern.Value,
                        "it writes the same replacement '" + later.Replacement.Value + "' as " + earlier.Path + " ('" + earlier.Pattern.Value
                        + "'), and the two patterns match the same keys");
                    break;
                }
                string output = GroupReference.Replace(earlier.Replacement.Value, "0");
                if (Matches(laterRegex, output))
                {
                    Report(DiagnosticDescriptors.CheckpointAliasCollision, later.Pattern.Span!.Value, later.Pattern.Value,
                        "it also matches '" + output + "', which " + earlier.Path + " writes, so keys that alias renames are renamed again onto the keys this one renames");
                    break;
                }
            }
        }
    }

    private static readonly Regex GroupReference = new(@"\$(\d+|\{[^}]*\})", RegexOptions.CultureInvariant);

    private static bool Matches(Regex regex, string? text)
    {
        if (text is null) return false;
        try
        {
            return regex.IsMatch(text);
        }
        catch (RegexMatchTimeoutException)
        {
            return false;
        }
    }

    /// <summary>
    /// The only text a pattern matches when it is a literal: plain characters and escaped punctuation, optionally
    /// anchored with ^ and $. Null for anything with classes, groups, alternation or quantifiers.
    /// </summary>
    private static string? LiteralText(string pattern)
    {
        var text = new System.Text.StringBuilder(pattern.Length);
        for (int i = 0; i < pattern.Length; i++)
        {
            char c = pattern[i];
            if ((c == '^' && i == 0) || (c == '$' && i == pattern.Length - 1)) continue;
            if (c == '\\')
            {
                if (i + 1 >= pattern.Length) return null;
                char next = pattern[++i];
                if (char.IsLetterOrDigit(next)) return null;
                text.Append(next);
                continue;
            }
            if ("[](){}|*+?.^$".IndexOf(c) >= 0) return null;
            text.Append(c);
        }
        return text.ToString();
    }

    private LocationInfo LocationInfoAt(TextSpan span) => _document.Locate(span);

    /// <summary>Assembles the model once every pass succeeded (all values are known to be valid here).</summary>
    private ModelSpec Assemble(SpecConfig c, TokenizerSpec tokenizer, ImmutableArray<VariantSpec> variants)
    {
        return new ModelSpec(
            _name!.Value.Value,
            _typeName!.Value.Value,
            _namespace,
            _description,
            NameRules.FileName(_path),
            new DimsSpec(c.Hidden!.Value.Value, c.Layers!.Value.Value, c.Heads!.Value.Value, c.Intermediate!.Value.Value, c.VocabSize!.Value.Value, c.MaxPositions!.Value.Value),
            _norm!,
            _layer!,
            _position!,
            new EmbeddingsSpec(_tokenType, _embeddingLayerNorm!, _tokenDropout!, _zeroPad),
            new AttentionSpec(_qkvBias, _outputBias, _softmax!, _biases.ToEquatableArray()),
            _feedForward!,
            new PoolerSpec(_poolerInCheckpoint, _poolerActivation),
            new MlmHeadSpec(c.MlmTransformActivation!.Value.Value, c.MlmLayerNormEps!.Value.Value, _mlmTied, _mlmBias)
            {
                NewConfigActivation = _mlmNewConfigActivation,
            },
            tokenizer,
            _checkpoint!,
            variants.ToEquatableArray())
        {
            SecondaryStructure = _secondaryStructure,
            PretrainingHeads = _pretrainingHeads.ToEquatableArray(),
            SequenceHead = _sequenceHead,
            TokenHead = _tokenHead,
            ContactHead = _contactHead,
        };
    }
}
