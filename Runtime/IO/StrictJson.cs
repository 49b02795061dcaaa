using System;
using System.Collections.Generic;
using System.Text.Json;

namespace RnaLm.IO;

/// <summary>
/// Checks a JSON text for what the framework's parsers accept or report late and without context: a key repeated
/// within one object (which of the two values wins is undefined), and escapes that decode to invalid UTF-16 (lone
/// surrogates such as <c>\ud800</c>), which only fail when the string is first read.
/// </summary>
public static class StrictJson
{
    /// <summary>The first problem of <paramref name="utf8"/> as a short description with its line, or null.</summary>
    /// <param name="utf8">The JSON text as UTF-8.</param>
    /// <param name="maxDepth">The deepest nesting accepted.</param>
    /// <remarks>Syntax errors are left to the parser that follows (it reports them with their position).</remarks>
    public static string? FindProblem(ReadOnlySpan<byte> utf8, int maxDepth = 64)
    {
        var reader = new Utf8JsonReader(utf8, new JsonReaderOptions { MaxDepth = maxDepth });
        var keys = new Stack<HashSet<string>>();
        try
        {
            while (reader.Read())
            {
                switch (reader.TokenType)
                {
                    case JsonTokenType.StartObject:
                        keys.Push(new HashSet<string>(StringComparer.Ordinal));
                        break;
                    case JsonTokenType.EndObject:
                        keys.Pop();
                        break;
                    case JsonTokenType.PropertyName:
                    {
                        if (!TryRead(ref reader, out string? name))
                        {
                            return $"a key on line {Line(utf8, reader.TokenStartIndex)} has an escape that is not valid UTF-16 (a lone surrogate)";
                        }
                        if (!keys.Peek().Add(name))
                        {
                            return $"the key '{name}' appears twice in the same object (line {Line(utf8, reader.TokenStartIndex)})";
                        }
                        break;
                    }
                    case JsonTokenType.String:
                        if (!TryRead(ref reader, out _))
                        {
                            return $"a string on line {Line(utf8, reader.TokenStartIndex)} has an escape that is not valid UTF-16 (a lone surrogate)";
                        }
                        break;
                }
            }
        }
        catch (JsonException)
        {
            return null;
        }
        return null;
    }

    private static bool TryRead(ref Utf8JsonReader reader, out string text)
    {
        try
        {
            text = reader.GetString()!;
            return true;
        }
        catch (InvalidOperationException)
        {
            text = "";
            return false;
        }
    }

    private static long Line(ReadOnlySpan<byte> utf8, long offset)
    {
        long line = 1;
        foreach (byte b in utf8[..(int)Math.Min(offset, utf8.Length)])
        {
            if (b == (byte)'\n') line++;
        }
        return line;
    }
}
