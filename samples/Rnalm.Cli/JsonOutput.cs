using System;
using System.Buffers;
using System.IO;
using System.Text;
using System.Text.Encodings.Web;
using System.Text.Json;

namespace RnaLm.Cli;

/// <summary>Writes JSON documents to a <see cref="TextWriter"/> with System.Text.Json.</summary>
internal static class JsonOutput
{
    /// <summary>
    /// Builds one JSON document with <paramref name="write"/> and writes it to <paramref name="output"/> followed by a
    /// newline. Compact output has no whitespace at all (one document per line); indented output is for people.
    /// Non-ASCII and HTML-sensitive characters such as <c>&lt;</c> are written literally (<c>"&lt;mask&gt;"</c>, not
    /// <c>"\u003Cmask\u003E"</c>); the output is still valid JSON.
    /// </summary>
    public static void Write(TextWriter output, bool indented, Action<Utf8JsonWriter> write)
    {
        var buffer = new ArrayBufferWriter<byte>();
        using (var writer = new Utf8JsonWriter(buffer, new JsonWriterOptions
        {
            Indented = indented,
            Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping,
        }))
        {
            write(writer);
        }
        output.WriteLine(Encoding.UTF8.GetString(buffer.WrittenSpan));
    }

    /// <summary>
    /// Writes <paramref name="value"/> rounded to <paramref name="digits"/> decimals, or JSON null when it is not a
    /// finite number (a loss with nothing to average, a metric without examples): JSON has no NaN or infinity.
    /// </summary>
    public static void WriteRounded(Utf8JsonWriter writer, string name, double value, int digits = 6)
    {
        if (double.IsFinite(value)) writer.WriteNumber(name, Math.Round(value, digits));
        else writer.WriteNull(name);
    }

    public static void WriteIntArray(Utf8JsonWriter writer, string name, ReadOnlySpan<int> values)
    {
        writer.WriteStartArray(name);
        foreach (int value in values)
        {
            writer.WriteNumberValue(value);
        }
        writer.WriteEndArray();
    }
}
