using System;
using System.Collections.Generic;
using System.Globalization;
using System.IO;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace RnaLm.Models;

/// <summary>A configuration file that could not be read; the message names the file and the field.</summary>
public sealed class ConfigException : Exception
{
    public ConfigException(string message, Exception? inner = null) : base(message, inner)
    {
    }
}

/// <summary>
/// Reads the fields of a MultiMolecule/HF <c>config.json</c> one by one for a generated config class: typed getters with
/// spec defaults, errors that name the file and field, and every field not read kept (in order) for writing back.
/// </summary>
public sealed class ConfigJsonReader
{
    private readonly JsonObject _root;
    private readonly HashSet<string> _read = new(StringComparer.Ordinal);

    private ConfigJsonReader(JsonObject root, string source)
    {
        _root = root;
        Source = source;
    }

    /// <summary>Where the JSON came from (for messages).</summary>
    public string Source { get; }

    public static ConfigJsonReader Parse(string json, string source)
    {
        ArgumentNullException.ThrowIfNull(json);
        if (RnaLm.IO.StrictJson.FindProblem(Encoding.UTF8.GetBytes(json)) is { } problem)
        {
            throw new ConfigException($"{source}: {problem}.");
        }
        JsonNode? node;
        try
        {
            node = JsonNode.Parse(json, documentOptions: new JsonDocumentOptions { AllowTrailingCommas = false });
        }
        catch (JsonException e)
        {
            throw new ConfigException($"{source}: not valid JSON (line {e.LineNumber + 1}, byte {e.BytePositionInLine + 1}): {e.Message}", e);
        }
        if (node is not JsonObject obj) throw new ConfigException($"{source}: expected a JSON object at the top level.");
        return new ConfigJsonReader(obj, source);
    }

    private JsonNode? Take(string name, out bool present)
    {
        _read.Add(name);
        present = _root.TryGetPropertyValue(name, out var value);
        return value;
    }

    private ConfigException Wrong(string name, string expected, JsonNode? value) =>
        new($"{Source}: field '{name}' must be {expected}, found {(value is null ? "null" : value.ToJsonString())}.");

    public int GetInt(string name, int fallback)
    {
        var value = Take(name, out bool present);
        if (!present) return fallback;
        if (value is JsonValue v && v.TryGetValue<long>(out long l) && l is >= int.MinValue and <= int.MaxValue) return (int)l;
        if (value is JsonValue d && d.TryGetValue<double>(out double x) && x == Math.Floor(x) && Math.Abs(x) < int.MaxValue) return (int)x;
        throw Wrong(name, "an integer", value);
    }

    /// <summary>An optional integer: absent → <paramref name="fallback"/>, JSON null → null.</summary>
    public int? GetNullableInt(string name, int? fallback)
    {
        var value = Take(name, out bool present);
        if (!present) return fallback;
        if (value is null) return null;
        _read.Remove(name);
        return GetInt(name, 0);
    }

    public double GetDouble(string name, double fallback)
    {
        var value = Take(name, out bool present);
        if (!present) return fallback;
        if (value is JsonValue v && v.TryGetValue<double>(out double x) && double.IsFinite(x)) return x;
        throw Wrong(name, "a number", value);
    }

    public bool GetBool(string name, bool fallback)
    {
        var value = Take(name, out bool present);
        if (!present) return fallback;
        if (value is JsonValue v && v.TryGetValue<bool>(out bool b)) return b;
        throw Wrong(name, "true or false", value);
    }

    public string GetString(string name, string fallback)
    {
        var value = Take(name, out bool present);
        if (!present) return fallback;
        if (value is JsonValue v && v.TryGetValue<string>(out string? s)) return s;
        throw Wrong(name, "a string", value);
    }

    /// <summary>Reads a string field whose value the spec fixes (e.g. <c>model_type</c>); a different value is an error.</summary>
    public void Expect(string name, string required)
    {
        var value = Take(name, out bool present);
        if (!present) return;
        if (value is JsonValue v && v.TryGetValue<string>(out string? s) && s == required) return;
        throw new ConfigException($"{Source}: field '{name}' is {(value is null ? "null" : value.ToJsonString())}, but this model requires \"{required}\".");
    }

    /// <summary>An optional object field: absent → <paramref name="fallbackWhenAbsent"/>; null → null.</summary>
    public JsonObject? GetObject(string name, JsonObject? fallbackWhenAbsent)
    {
        var value = Take(name, out bool present);
        if (!present) return fallbackWhenAbsent;
        if (value is null) return null;
        if (value is JsonObject o) return (JsonObject)o.DeepClone();
        throw Wrong(name, "an object or null", value);
    }

    /// <summary>Every field that no getter asked for, in file order (written back unchanged by <see cref="ConfigJsonWriter"/>).</summary>
    public JsonObject Remaining()
    {
        var rest = new JsonObject();
        foreach (var (key, value) in _root)
        {
            if (!_read.Contains(key)) rest[key] = value?.DeepClone();
        }
        return rest;
    }
}

/// <summary>Writes a config as indented JSON with known fields first, then preserved unknown fields.</summary>
public sealed class ConfigJsonWriter
{
    private readonly JsonObject _root = new();

    public ConfigJsonWriter Add(string name, int value) { _root[name] = value; return this; }

    public ConfigJsonWriter Add(string name, int? value) { _root[name] = value; return this; }

    public ConfigJsonWriter Add(string name, double value) { _root[name] = value; return this; }

    public ConfigJsonWriter Add(string name, bool value) { _root[name] = value; return this; }

    public ConfigJsonWriter Add(string name, string value) { _root[name] = value; return this; }

    public ConfigJsonWriter Add(string name, JsonNode? value) { _root[name] = value?.DeepClone(); return this; }

    /// <summary>Adds preserved fields that are not already written.</summary>
    public ConfigJsonWriter AddRemaining(JsonObject remaining)
    {
        foreach (var (key, value) in remaining)
        {
            if (!_root.ContainsKey(key)) _root[key] = value?.DeepClone();
        }
        return this;
    }

    public override string ToString() =>
        _root.ToJsonString(new JsonSerializerOptions { WriteIndented = true }).Replace("\r\n", "\n", StringComparison.Ordinal) + "\n";
}

/// <summary>Reads the <c>lm_head</c> object of a config: missing fields fall back to the given defaults.</summary>
public static class HeadConfigJson
{
    public static string TransformActivation(JsonObject? head, string fallback) =>
        head is not null && head.TryGetPropertyValue("transform_act", out var v) && v is JsonValue s && s.TryGetValue<string>(out var text) ? text : fallback;

    public static double LayerNormEps(JsonObject? head, double fallback) =>
        head is not null && head.TryGetPropertyValue("layer_norm_eps", out var v) && v is JsonValue s && s.TryGetValue<double>(out var eps) ? eps : fallback;

    /// <summary>The head's <c>num_labels</c> (a positive integer), else <paramref name="fallback"/>.</summary>
    public static int NumLabels(JsonObject? head, int fallback) =>
        head is not null && head.TryGetPropertyValue("num_labels", out var v) && v is JsonValue s && s.TryGetValue<int>(out var labels) && labels > 0 ? labels : fallback;
}
