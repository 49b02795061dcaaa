using System.Collections.Generic;
using System.Text;
using Microsoft.CodeAnalysis.CSharp;

namespace RnaLm.Generator.Spec;

/// <summary>Naming rules of spec names and the C# identifiers derived from them (RNA3008).</summary>
internal static class NameRules
{
    public const string ModelNameRule = "it must start with a lower-case letter or digit and contain only a-z, 0-9, '.', '_' and '-'";
    public const string TypeNameRule = "it must be a PascalCase C# identifier: an upper-case ASCII letter followed by ASCII letters and digits";
    public const string NamespaceRule = "it must be a C# namespace: identifiers (ASCII letters, digits, '_', not keywords) separated by '.'";
    public const string PrefixRule = "it must be a C# identifier without dots (ASCII letters, digits, '_', not a keyword), such as \"model\"";

    /// <summary>"splicebert", "splicebert-human.510": <c>[a-z0-9][a-z0-9._-]*</c>.</summary>
    public static bool IsValidModelName(string name)
    {
        if (name.Length == 0 || !(IsLower(name[0]) || IsDigit(name[0]))) return false;
        foreach (char c in name)
        {
            if (!(IsLower(c) || IsDigit(c) || c == '.' || c == '_' || c == '-')) return false;
        }
        return true;
    }

    /// <summary>"SpliceBert": <c>[A-Z][A-Za-z0-9]*</c>.</summary>
    public static bool IsValidTypeName(string name)
    {
        if (name.Length == 0 || !IsUpper(name[0])) return false;
        foreach (char c in name)
        {
            if (!(IsUpper(c) || IsLower(c) || IsDigit(c))) return false;
        }
        return true;
    }

    /// <summary>An ASCII C# identifier that is not a keyword: <c>[A-Za-z_][A-Za-z0-9_]*</c>.</summary>
    public static bool IsPlainIdentifier(string name)
    {
        if (name.Length == 0 || IsDigit(name[0])) return false;
        foreach (char c in name)
        {
            if (!(IsUpper(c) || IsLower(c) || IsDigit(c) || c == '_')) return false;
        }
        return SyntaxFacts.GetKeywordKind(name) == SyntaxKind.None && name != "global";
    }

    public static bool IsValidNamespace(string name)
    {
        if (name.Length == 0) return false;
        foreach (var part in name.Split('.'))
        {
            if (!IsPlainIdentifier(part)) return false;
        }
        return true;
    }

    /// <summary>
    /// The C# member name of a variant: the family part becomes the spec's type_name, the rest is
    /// PascalCased (separators dropped, a letter after a separator or a digit upper-cased):
    /// "splicebert-human.510" → "SpliceBertHuman510", "ncrnabert-3mer" → "NcRnaBert3Mer".
    /// </summary>
    public static string VariantMemberName(string variant, string family, string typeName)
    {
        var builder = new StringBuilder();
        string rest = variant;
        if (family.Length > 0 && variant.StartsWith(family, System.StringComparison.Ordinal))
        {
            builder.Append(typeName);
            rest = variant.Substring(family.Length);
        }
        bool upperNext = true;
        foreach (char c in rest)
        {
            if (IsLower(c) || IsUpper(c))
            {
                builder.Append(upperNext ? char.ToUpperInvariant(c) : c);
                upperNext = false;
            }
            else if (IsDigit(c))
            {
                builder.Append(c);
                upperNext = true;
            }
            else
            {
                upperNext = true;
            }
        }
        return builder.ToString();
    }

    /// <summary>
    /// The members generated for a variant whose member name is <paramref name="member"/>: in <c>{Type}Variants</c> the
    /// config, name, vocabulary, parameter count, FLOPs, token limit and tokenizer factory; in <c>{Type}Config</c> the
    /// parameter count and FLOPs again. Each with the role a diagnostic names.
    /// </summary>
    public static IEnumerable<(string Member, string Role)> GeneratedVariantMembers(string member)
    {
        yield return (member, "default config");
        yield return (member + "Name", "name constant");
        yield return (member + "Vocabulary", "vocabulary");
        yield return (member + "Parameters", "parameter count");
        yield return (member + "ForwardFlops", "FLOPs function");
        yield return (member + "MaxTokens", "token limit");
        yield return ("Create" + member + "Tokenizer", "tokenizer factory");
    }

    /// <summary>
    /// Why a member generated for a variant cannot exist whatever the other variants are called: it is a fixed member
    /// of the generated config class, or the name of the class that holds it. Null when it is free.
    /// </summary>
    public static string? ReservedMemberReason(string generated, string typeName)
    {
        if (generated == "CountBackboneParameters" || generated == "ForwardFlops")
            return "is already a method of the generated " + typeName + "Config class";
        if (generated == typeName + "Variants")
            return "is the name of the generated class that holds the variants";
        return null;
    }

    /// <summary>The file name of a path, for <see cref="ModelSpec.SourceFile"/> (no IO involved).</summary>
    public static string FileName(string path)
    {
        int slash = path.LastIndexOfAny(new[] { '/', '\\' });
        return slash < 0 ? path : path.Substring(slash + 1);
    }

    private static bool IsLower(char c) => c >= 'a' && c <= 'z';

    private static bool IsUpper(char c) => c >= 'A' && c <= 'Z';

    private static bool IsDigit(char c) => c >= '0' && c <= '9';
}
