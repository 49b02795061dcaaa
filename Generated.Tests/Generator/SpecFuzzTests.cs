using System;
using System.Collections.Generic;
using System.Diagnostics;
using System.Globalization;
using System.IO;
using System.Linq;
using System.Text;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp;
using Xunit;
using Xunit.Abstractions;

namespace RnaLm.Tests.Generator;

/// <summary>
/// Issue 4 item 6: the generator never throws. A seeded, time-bounded fuzz run mutates the shipped specs (plus a
/// spec that extends one of them, and an attribute spec) with byte flips, deleted and duplicated tokens, swapped
/// values, extreme numbers, NaN-like values, deep nesting, truncation and random <c>extends</c>, runs the real
/// generator driver on each (incrementally from a clean run, the way an IDE does), and requires that no exception
/// escapes, that the driver reports no CS8785/AD0001, and that every diagnostic lies inside a spec file's text (or
/// the attribute spec's C# file). At least <see cref="MinimumCases"/> cases always run; after that the run goes on
/// until <c>RNALM_FUZZ_SECONDS</c> (default 10) seconds have passed. The count is written to the test output.
/// </summary>
public sealed class SpecFuzzTests
{
    private const int Seed = 20261122;
    private const int MinimumCases = 2000;

    private static readonly string[] ExtremeNumbers =
    {
        "0", "-1", "1", "2147483647", "2147483648", "-2147483648", "-2147483649", "4294967296", "1e308", "-1e308", "1e-400",
        "1e309", "0.5", "1.0", "5e-324", "99999999999999999999", "-0", "1E2", "0.0000001",
    };

    private static readonly string[] NaNLike =
    {
        "NaN", "Infinity", "-Infinity", "\"NaN\"", "\"Infinity\"", "\"-0\"", "1e999", "null", "true", "false", "\"\"", "\"\\u0000\"",
        "\"\\ud800\"", "[]", "{}", "\"positions\"", "\"from_tokenizer\"", "\"layer_norm_eps\"", "\"hidden_act\"", "\"secondary_structure\"",
    };

    private static readonly string[] Names =
    {
        "splicebert", "ernierna", "rnaernie", "ncrnabert", "fuzzchild", "ernierna-ss", "splicebert.510", "nope", "", "ErnieRna",
    };

    private readonly ITestOutputHelper _output;

    public SpecFuzzTests(ITestOutputHelper output) => _output = output;

    private static TimeSpan Budget =>
        TimeSpan.FromSeconds(int.TryParse(Environment.GetEnvironmentVariable("RNALM_FUZZ_SECONDS"), NumberStyles.None, CultureInfo.InvariantCulture, out int s) ? s : 10);

    [Fact]
    public void MutatedSpecsEndInDiagnosticsInsideTheSpecNeverInGeneratorFailures()
    {
        var specs = GeneratorHarness.ShippedSpecs().Select(s => (Path: s.Path, Text: s.GetText()!.ToString())).ToList();
        specs.Add(("/specs/fuzzchild.model.json",
            "{\n  \"spec_version\": 2,\n  \"name\": \"fuzzchild\",\n  \"type_name\": \"FuzzChild\",\n  \"extends\": \"splicebert\",\n" +
            "  \"layer\": \"pre_norm\",\n  \"norm\": { \"final\": \"layer_norm\" },\n  \"dims\": { \"layers\": 2 },\n  \"variants\": { \"fuzzchild\": {}, \"fuzzchild.short\": { \"dims\": { \"max_positions\": 64 } } }\n}\n"));
        var texts = specs.Select(s => (AdditionalText)new InMemoryAdditionalText(s.Path, s.Text)).ToList();
        const string attributePath = "/src/ErnieRna.cs";
        var compilation = GeneratorHarness.CompilationOf((attributePath, AttributeSpecTests.ErnieRnaAttributes
            .Replace("[RnaModel(\"ernierna\", TypeName = \"ErnieRna\"", "[RnaModel(\"ernierna-attr\", TypeName = \"ErnieRnaAttr\"", StringComparison.Ordinal)
            .Replace("[RnaModelVariant(\"ernierna\"", "[RnaModelVariant(\"ernierna-attr\"", StringComparison.Ordinal)
            .Replace("[RnaModelVariant(\"ernierna-ss\"", "[RnaModelVariant(\"ernierna-attr-ss\"", StringComparison.Ordinal)));
        var attributeTree = compilation.SyntaxTrees.Single();
        string attributeText = attributeTree.ToString();

        var clean = GeneratorHarness.Driver(texts).RunGenerators(compilation);
        Assert.Null(clean.GetRunResult().Results.Single().Exception);
        Assert.DoesNotContain(clean.GetRunResult().Diagnostics, d => d.Severity == DiagnosticSeverity.Error);

        var random = new Random(Seed);
        var stopwatch = Stopwatch.StartNew();
        var byId = new SortedDictionary<string, int>(StringComparer.Ordinal);
        int cases = 0, attributeCases = 0, generated = 0;
        while (cases < MinimumCases || stopwatch.Elapsed < Budget)
        {
            GeneratorDriver driver;
            var lengths = specs.ToDictionary(s => s.Path, s => s.Text.Length, StringComparer.Ordinal);
            lengths[attributePath] = attributeText.Length;
            string description;
            if (cases % 4 == 3)
            {
                string mutated = Mutate(attributeText, random, csharp: true, out description);
                var tree = CSharpSyntaxTree.ParseText(mutated, (CSharpParseOptions)attributeTree.Options, attributePath, Encoding.UTF8);
                lengths[attributePath] = mutated.Length;
                driver = clean.RunGenerators(compilation.ReplaceSyntaxTree(attributeTree, tree));
                attributeCases++;
            }
            else
            {
                int index = random.Next(specs.Count);
                string mutated = Mutate(specs[index].Text, random, csharp: false, out description);
                lengths[specs[index].Path] = mutated.Length;
                driver = clean.ReplaceAdditionalText(texts[index], new InMemoryAdditionalText(specs[index].Path, mutated)).RunGenerators(compilation);
                description = Path.GetFileName(specs[index].Path) + ": " + description;
            }
            cases++;

            var run = driver.GetRunResult();
            var result = run.Results.Single();
            Assert.True(result.Exception is null, $"case {cases} ({description}): the generator threw {result.Exception}");
            foreach (var d in run.Diagnostics)
            {
                Assert.False(d.Id is "CS8785" or "AD0001" or "RNA9001", $"case {cases} ({description}): {d}");
                byId[d.Id] = byId.TryGetValue(d.Id, out int n) ? n + 1 : 1;
                Assert.True(d.Location.Kind is LocationKind.ExternalFile or LocationKind.SourceFile, $"case {cases} ({description}): {d.Id} has no location");
                var span = d.Location.GetLineSpan();
                Assert.True(lengths.TryGetValue(span.Path, out int length), $"case {cases} ({description}): {d.Id} points outside the specs: {span.Path}");
                Assert.True(d.Location.SourceSpan.Start >= 0 && d.Location.SourceSpan.End <= length,
                    $"case {cases} ({description}): {d.Id} at {d.Location.SourceSpan} is outside {span.Path} ({length} characters)");
            }
            generated += result.GeneratedSources.Length;
        }

        _output.WriteLine($"fuzz: {cases} cases ({cases - attributeCases} JSON, {attributeCases} attribute) in {stopwatch.Elapsed.TotalSeconds:F1} s, seed {Seed}, {generated} generated files");
        _output.WriteLine("diagnostics by id: " + string.Join(", ", byId.Select(kv => kv.Key + " " + kv.Value)));
        Assert.True(cases >= MinimumCases);
        // The corpus really exercised the validator, not only the JSON reader.
        Assert.True(byId.Keys.Count(k => k.StartsWith("RNA3", StringComparison.Ordinal)) >= 5, string.Join(", ", byId.Keys));
        Assert.Contains("RNA4006", byId.Keys);
    }

    // ------------------------------------------------------------------ mutations

    private readonly record struct Token(int Start, int Length, char Kind);

    /// <summary>Splits text into JSON-ish tokens: strings ('s'), numbers ('n'), words ('w') and punctuation ('p').</summary>
    private static List<Token> Tokens(string text)
    {
        var tokens = new List<Token>();
        int i = 0;
        while (i < text.Length)
        {
            char c = text[i];
            int start = i;
            if (char.IsWhiteSpace(c))
            {
                i++;
                continue;
            }
            if (c == '"')
            {
                i++;
                while (i < text.Length && text[i] != '"' && text[i] != '\n') i += text[i] == '\\' ? 2 : 1;
                i = Math.Min(i + 1, text.Length);
                tokens.Add(new Token(start, i - start, 's'));
            }
            else if (c == '-' || char.IsDigit(c))
            {
                i++;
                while (i < text.Length && (char.IsDigit(text[i]) || text[i] is '.' or 'e' or 'E' or '+' or '-')) i++;
                tokens.Add(new Token(start, i - start, 'n'));
            }
            else if (char.IsLetter(c) || c == '_')
            {
                while (i < text.Length && (char.IsLetterOrDigit(text[i]) || text[i] == '_')) i++;
                tokens.Add(new Token(start, i - start, 'w'));
            }
            else
            {
                i++;
                tokens.Add(new Token(start, 1, 'p'));
            }
        }
        return tokens;
    }

    private static string Replace(string text, Token token, string with) =>
        text.Substring(0, token.Start) + with + text.Substring(token.Start + token.Length);

    private static string Mutate(string text, Random random, bool csharp, out string description)
    {
        int count = random.Next(1, 4);
        var steps = new List<string>();
        for (int k = 0; k < count; k++)
        {
            text = MutateOnce(text, random, csharp, out string step);
            steps.Add(step);
        }
        description = string.Join("; ", steps);
        return text;
    }

    private static string MutateOnce(string text, Random random, bool csharp, out string description)
    {
        var tokens = Tokens(text);
        if (tokens.Count == 0 || text.Length == 0)
        {
            description = "append {";
            return text + "{";
        }
        Token Pick(Func<Token, bool>? where = null)
        {
            var candidates = where is null ? tokens : tokens.Where(where).ToList();
            return candidates.Count == 0 ? tokens[random.Next(tokens.Count)] : candidates[random.Next(candidates.Count)];
        }
        bool IsValue(Token t) => t.Kind is 's' or 'n' || (t.Kind == 'w' && !csharp);
        switch (random.Next(10))
        {
            case 0:
                {
                    var bytes = Encoding.UTF8.GetBytes(text);
                    int flips = random.Next(1, 4);
                    for (int f = 0; f < flips; f++) bytes[random.Next(bytes.Length)] ^= (byte)(1 << random.Next(8));
                    description = $"{flips} bit flip(s)";
                    return Encoding.UTF8.GetString(bytes);
                }
            case 1:
                {
                    var t = Pick();
                    description = $"delete token at {t.Start}";
                    return Replace(text, t, "");
                }
            case 2:
                {
                    var t = Pick();
                    string token = text.Substring(t.Start, t.Length);
                    description = $"duplicate token at {t.Start}";
                    return text.Insert(t.Start + t.Length, (random.Next(2) == 0 ? " " : ", ") + token);
                }
            case 3:
                {
                    var a = Pick(IsValue);
                    var b = Pick(IsValue);
                    if (a.Start == b.Start) goto case 1;
                    if (a.Start > b.Start) (a, b) = (b, a);
                    string ta = text.Substring(a.Start, a.Length), tb = text.Substring(b.Start, b.Length);
                    description = $"swap values at {a.Start} and {b.Start}";
                    return Replace(Replace(text, b, ta), a, tb);
                }
            case 4:
                {
                    var t = Pick(x => x.Kind == 'n');
                    string value = ExtremeNumbers[random.Next(ExtremeNumbers.Length)];
                    description = $"number at {t.Start} -> {value}";
                    return Replace(text, t, value);
                }
            case 5:
                {
                    var t = Pick(IsValue);
                    string value = NaNLike[random.Next(NaNLike.Length)];
                    description = $"value at {t.Start} -> {value}";
                    return Replace(text, t, value);
                }
            case 6:
                {
                    var t = Pick(IsValue);
                    int depth = random.Next(1, 120);
                    bool arrays = random.Next(2) == 0;
                    string inner = text.Substring(t.Start, t.Length);
                    string nested = arrays
                        ? new string('[', depth) + inner + new string(']', depth)
                        : string.Concat(Enumerable.Repeat("{\"a\": ", depth)) + inner + new string('}', depth);
                    description = $"nest value at {t.Start} {depth} deep";
                    return Replace(text, t, csharp ? "new[] { " + inner + " }" : nested);
                }
            case 7:
                {
                    int at = random.Next(text.Length);
                    description = $"truncate at {at}";
                    return text.Substring(0, at);
                }
            case 8:
                {
                    var t = Pick(x => x.Kind == 's');
                    string name = Names[random.Next(Names.Length)];
                    description = $"string at {t.Start} -> \"{name}\"";
                    return Replace(text, t, "\"" + name + "\"");
                }
            default:
                {
                    string name = Names[random.Next(Names.Length)];
                    if (csharp)
                    {
                        int model = text.IndexOf("[RnaModel(", StringComparison.Ordinal);
                        int close = model < 0 ? -1 : text.IndexOf(")]", model, StringComparison.Ordinal);
                        description = $"Extends = \"{name}\"";
                        return close < 0 ? text : text.Insert(close, ", Extends = \"" + name + "\"");
                    }
                    int brace = text.IndexOf('{');
                    description = $"\"extends\": \"{name}\"";
                    return brace < 0 ? text : text.Insert(brace + 1, " \"extends\": \"" + name + "\",");
                }
        }
    }
}
