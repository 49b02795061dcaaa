using System;
using System.Collections.Generic;
using System.Collections.Immutable;
using System.Globalization;
using System.Text;
using Microsoft.CodeAnalysis.Text;

namespace RnaLm.Generator.Json;

/// <summary>
/// A strict RFC 8259 JSON reader: no comments, no trailing commas, no single quotes, no NaN or
/// Infinity, no leading zeros, no duplicate property names. A UTF-8 byte order mark (U+FEFF) at the
/// start is skipped. Reading stops at the first error, which is returned with its span.
/// </summary>
internal sealed class JsonReader
{
    /// <summary>Objects and arrays nested deeper than this are rejected (keeps recursion bounded).</summary>
    public const int MaxDepth = 64;

    private readonly string _text;
    private int _pos;
    private int _depth;

    private JsonReader(string text)
    {
        _text = text;
    }

    public static JsonParseResult Parse(SourceText text) => Parse(text.ToString());

    public static JsonParseResult Parse(string text)
    {
        var reader = new JsonReader(text);
        try
        {
            return new JsonParseResult(reader.ReadDocument(), null);
        }
        catch (JsonReaderException e)
        {
            return new JsonParseResult(null, e.Error);
        }
    }

    private JsonNode ReadDocument()
    {
        if (_text.Length > 0 && _text[0] == '\uFEFF') _pos = 1;
        SkipWhitespace();
        if (_pos >= _text.Length) throw Syntax(new TextSpan(_pos, 0), "the file is empty; expected a JSON value");
        var root = ReadValue();
        SkipWhitespace();
        if (_pos < _text.Length)
        {
            throw Syntax(CharSpan(_pos), $"unexpected {DescribeChar(_text[_pos])} after the end of the JSON value");
        }
        return root;
    }

    private JsonNode ReadValue()
    {
        if (_pos >= _text.Length) throw Syntax(new TextSpan(_pos, 0), "unexpected end of file; expected a value");
        char c = _text[_pos];
        switch (c)
        {
            case '{':
                return ReadObject();
            case '[':
                return ReadArray();
            case '"':
                {
                    int start = _pos;
                    string value = ReadString();
                    return new JsonString(TextSpan.FromBounds(start, _pos), value, _text.Substring(start, _pos - start));
                }
            case '-':
                return ReadNumber();
            case '/':
                throw Syntax(CharSpan(_pos), "comments are not allowed in JSON");
            case '\'':
                throw Syntax(CharSpan(_pos), "strings must use double quotes");
        }
        if (c >= '0' && c <= '9') return ReadNumber();
        if (IsWordChar(c)) return ReadLiteral();
        throw Syntax(CharSpan(_pos), $"unexpected {DescribeChar(c)}; expected a value");
    }

    private JsonObject ReadObject()
    {
        int start = _pos;
        Enter(start);
        _pos++; // '{'
        var properties = ImmutableArray.CreateBuilder<JsonProperty>();
        var names = new HashSet<string>(StringComparer.Ordinal);
        SkipWhitespace();
        if (Peek() == '}')
        {
            _pos++;
            _depth--;
            return new JsonObject(TextSpan.FromBounds(start, _pos), properties.ToImmutable());
        }
        while (true)
        {
            SkipWhitespace();
            if (_pos >= _text.Length) throw Syntax(new TextSpan(_pos, 0), "unexpected end of file; expected a property name");
            if (_text[_pos] != '"')
            {
                if (_text[_pos] == '}' && properties.Count > 0) throw Syntax(CharSpan(_pos), "a trailing comma before '}' is not allowed");
                if (_text[_pos] == '/') throw Syntax(CharSpan(_pos), "comments are not allowed in JSON");
                throw Syntax(CharSpan(_pos), "expected a property name in double quotes");
            }
            int nameStart = _pos;
            string name = ReadString();
            var nameSpan = TextSpan.FromBounds(nameStart, _pos);
            if (!names.Add(name))
            {
                throw new JsonReaderException(new JsonError(JsonErrorKind.DuplicateProperty, nameSpan, $"duplicate property '{name}'", name));
            }
            SkipWhitespace();
            if (Peek() != ':') throw Syntax(CurrentSpan(), "expected ':' after property name");
            _pos++;
            SkipWhitespace();
            var value = ReadValue();
            properties.Add(new JsonProperty(name, nameSpan, value));
            SkipWhitespace();
            char next = Peek();
            if (next == ',')
            {
                _pos++;
                continue;
            }
            if (next == '}')
            {
                _pos++;
                _depth--;
                return new JsonObject(TextSpan.FromBounds(start, _pos), properties.ToImmutable());
            }
            throw Syntax(CurrentSpan(), "expected ',' or '}' after property value");
        }
    }

    private JsonArray ReadArray()
    {
        int start = _pos;
        Enter(start);
        _pos++; // '['
        var items = ImmutableArray.CreateBuilder<JsonNode>();
        SkipWhitespace();
        if (Peek() == ']')
        {
            _pos++;
            _depth--;
            return new JsonArray(TextSpan.FromBounds(start, _pos), items.ToImmutable());
        }
        while (true)
        {
            SkipWhitespace();
            if (Peek() == ']' && items.Count > 0) throw Syntax(CharSpan(_pos), "a trailing comma before ']' is not allowed");
            items.Add(ReadValue());
            SkipWhitespace();
            char next = Peek();
            if (next == ',')
            {
                _pos++;
                continue;
            }
            if (next == ']')
            {
                _pos++;
                _depth--;
                return new JsonArray(TextSpan.FromBounds(start, _pos), items.ToImmutable());
            }
            throw Syntax(CurrentSpan(), "expected ',' or ']' after array element");
        }
    }

    /// <summary>Reads a string token starting at the opening quote; leaves <c>_pos</c> after the closing quote.</summary>
    private string ReadString()
    {
        int start = _pos;
        _pos++; // opening quote
        StringBuilder? builder = null;
        int runStart = _pos;
        while (true)
        {
            if (_pos >= _text.Length) throw Syntax(TextSpan.FromBounds(start, _pos), "unterminated string");
            char c = _text[_pos];
            if (c == '"')
            {
                string result;
                if (builder is null)
                {
                    result = _text.Substring(runStart, _pos - runStart);
                }
                else
                {
                    builder.Append(_text, runStart, _pos - runStart);
                    result = builder.ToString();
                }
                _pos++;
                return result;
            }
            if (c == '\n' || c == '\r') throw Syntax(TextSpan.FromBounds(start, _pos), "unterminated string");
            if (c < ' ')
            {
                throw Syntax(CharSpan(_pos), "control character U+" + ((int)c).ToString("X4", CultureInfo.InvariantCulture) + " must be escaped in a string");
            }
            if (c != '\\')
            {
                _pos++;
                continue;
            }
            builder ??= new StringBuilder();
            builder.Append(_text, runStart, _pos - runStart);
            int escapeStart = _pos;
            _pos++;
            if (_pos >= _text.Length) throw Syntax(TextSpan.FromBounds(start, _pos), "unterminated string");
            char e = _text[_pos];
            switch (e)
            {
                case '"': builder.Append('"'); _pos++; break;
                case '\\': builder.Append('\\'); _pos++; break;
                case '/': builder.Append('/'); _pos++; break;
                case 'b': builder.Append('\b'); _pos++; break;
                case 'f': builder.Append('\f'); _pos++; break;
                case 'n': builder.Append('\n'); _pos++; break;
                case 'r': builder.Append('\r'); _pos++; break;
                case 't': builder.Append('\t'); _pos++; break;
                case 'u':
                    {
                        _pos++;
                        int code = 0;
                        for (int i = 0; i < 4; i++)
                        {
                            int digit = _pos < _text.Length ? HexValue(_text[_pos]) : -1;
                            if (digit < 0)
                            {
                                throw Syntax(TextSpan.FromBounds(escapeStart, Math.Min(_pos + (_pos < _text.Length && _text[_pos] != '"' ? 1 : 0), _text.Length)),
                                    "invalid \\u escape; expected four hexadecimal digits");
                            }
                            code = code * 16 + digit;
                            _pos++;
                        }
                        builder.Append((char)code);
                        break;
                    }
                default:
                    if (e == '\n' || e == '\r') throw Syntax(TextSpan.FromBounds(start, _pos), "unterminated string");
                    throw Syntax(TextSpan.FromBounds(escapeStart, _pos + 1), $"invalid escape sequence '\\{e}'");
            }
            runStart = _pos;
        }
    }

    private JsonNumber ReadNumber()
    {
        int start = _pos;
        if (Peek() == '-') _pos++;
        if (_pos >= _text.Length || !IsDigit(_text[_pos])) throw NumberError(start, "expected a digit after '-'");
        if (_text[_pos] == '0')
        {
            _pos++;
            if (_pos < _text.Length && IsDigit(_text[_pos]))
            {
                SkipNumberChars();
                throw NumberError(start, "leading zeros are not allowed");
            }
        }
        else
        {
            while (_pos < _text.Length && IsDigit(_text[_pos])) _pos++;
        }
        if (Peek() == '.')
        {
            _pos++;
            if (_pos >= _text.Length || !IsDigit(_text[_pos])) throw NumberError(start, "expected a digit after '.'");
            while (_pos < _text.Length && IsDigit(_text[_pos])) _pos++;
        }
        char e = Peek();
        if (e == 'e' || e == 'E')
        {
            _pos++;
            char sign = Peek();
            if (sign == '+' || sign == '-') _pos++;
            if (_pos >= _text.Length || !IsDigit(_text[_pos])) throw NumberError(start, "expected a digit in the exponent");
            while (_pos < _text.Length && IsDigit(_text[_pos])) _pos++;
        }
        if (_pos < _text.Length && (IsWordChar(_text[_pos]) || _text[_pos] == '.'))
        {
            throw NumberError(start, "unexpected character in number");
        }
        var span = TextSpan.FromBounds(start, _pos);
        string raw = _text.Substring(start, _pos - start);
        double value;
        try
        {
            value = double.Parse(raw, NumberStyles.Float, CultureInfo.InvariantCulture);
        }
        catch (OverflowException)
        {
            // .NET Framework throws where .NET Core returns infinity.
            value = double.PositiveInfinity;
        }
        if (double.IsInfinity(value) || double.IsNaN(value))
        {
            throw Syntax(span, $"number '{raw}' is out of range");
        }
        return new JsonNumber(span, raw, value);
    }

    private JsonNode ReadLiteral()
    {
        int start = _pos;
        while (_pos < _text.Length && IsWordChar(_text[_pos])) _pos++;
        var span = TextSpan.FromBounds(start, _pos);
        string word = _text.Substring(start, _pos - start);
        switch (word)
        {
            case "true": return new JsonBoolean(span, true);
            case "false": return new JsonBoolean(span, false);
            case "null": return new JsonNull(span);
            case "NaN":
            case "Infinity":
                throw Syntax(span, $"'{word}' is not valid JSON; numbers must be finite");
            default:
                throw Syntax(span, $"invalid literal '{word}'; expected a value (true, false, null, a number, a string, an array or an object)");
        }
    }

    private void Enter(int start)
    {
        _depth++;
        if (_depth > MaxDepth) throw Syntax(CharSpan(start), $"objects and arrays are nested deeper than {MaxDepth.ToString(CultureInfo.InvariantCulture)} levels");
    }

    private void SkipWhitespace()
    {
        while (_pos < _text.Length)
        {
            char c = _text[_pos];
            if (c == ' ' || c == '\t' || c == '\n' || c == '\r') _pos++;
            else break;
        }
    }

    private void SkipNumberChars()
    {
        while (_pos < _text.Length && (IsDigit(_text[_pos]) || _text[_pos] == '.' || _text[_pos] == 'e' || _text[_pos] == 'E' || _text[_pos] == '+' || _text[_pos] == '-')) _pos++;
    }

    private char Peek() => _pos < _text.Length ? _text[_pos] : '\0';

    private TextSpan CharSpan(int position) => position < _text.Length ? new TextSpan(position, 1) : new TextSpan(_text.Length, 0);

    private TextSpan CurrentSpan() => CharSpan(_pos);

    private JsonReaderException NumberError(int start, string message)
    {
        if (_pos == start) _pos++;
        var span = TextSpan.FromBounds(start, Math.Min(_pos, _text.Length));
        return Syntax(span, $"invalid number '{_text.Substring(span.Start, span.Length)}': {message}");
    }

    private static JsonReaderException Syntax(TextSpan span, string message) =>
        new(new JsonError(JsonErrorKind.Syntax, span, message));

    private static bool IsDigit(char c) => c >= '0' && c <= '9';

    private static bool IsWordChar(char c) => (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_';

    private static int HexValue(char c)
    {
        if (c >= '0' && c <= '9') return c - '0';
        if (c >= 'a' && c <= 'f') return c - 'a' + 10;
        if (c >= 'A' && c <= 'F') return c - 'A' + 10;
        return -1;
    }

    private static string DescribeChar(char c)
    {
        if (c < ' ' || c == '\u007F' || char.IsWhiteSpace(c) || char.IsSurrogate(c) || c == '\uFEFF')
        {
            return "character U+" + ((int)c).ToString("X4", CultureInfo.InvariantCulture);
        }
        return "'" + c + "'";
    }

    private sealed class JsonReaderException : Exception
    {
        public JsonReaderException(JsonError error)
            : base(error.Message)
        {
            Error = error;
        }

        public JsonError Error { get; }
    }
}
