using System;
using System.Buffers.Binary;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using System.Numerics;
using System.Text;
using System.Text.Json;
using System.Threading.Tasks;
using RnaLm.IO;

namespace RnaLm.Tests.Reliability;

/// <summary>How one mutated safetensors file fared.</summary>
internal enum FuzzOutcome
{
    /// <summary>Loaded, and every tensor holds the bytes of its own valid, tiled range.</summary>
    Accepted,

    /// <summary>Rejected with a <see cref="SafeTensorsFormatException"/> naming the file.</summary>
    Rejected,

    /// <summary>Any other exception, or a typed one that does not name the file.</summary>
    Untyped,

    /// <summary>Loaded although the layout is invalid, or a tensor does not hold its own bytes.</summary>
    InvalidAccepted,

    /// <summary>Did not finish within the time limit.</summary>
    Hang,

    /// <summary>Allocated more managed memory than the bound.</summary>
    Overallocated,
}

/// <summary>
/// Seeded mutations of real safetensors files — header structure (offsets, shapes, dtypes, names, metadata, entries),
/// header bytes, the length prefix, truncation and the data — and an independent check of what the reader accepts.
/// </summary>
internal static class SafeTensorsFuzz
{
    private static readonly string[] DTypes = { "F64", "F32", "F16", "BF16", "I64", "I32", "I16", "I8", "U8", "BOOL" };

    private static readonly string[] HostileNumbers =
    {
        "-1", "-8", "1.5", "1e3", "9223372036854775807", "9223372036854775808", "18446744073709551616", "4611686018427387904",
        "\"4\"", "null", "[]", "{}", "true", "0", "1", "2147483648", "4294967296",
    };

    private static readonly string[] HostileKeys =
    {
        "\"\\ud800\"", "\"\\udfff\"", "\"a\\ud83d\"", "\"\"", "\"__metadata__\"", "\"\\u0000\"", "\"" + new string('k', 300) + "\"",
    };

    /// <summary>One tensor entry, or the metadata, of a header as raw JSON pieces.</summary>
    private sealed class Entry
    {
        public required string Key { get; set; }
        public string? Raw { get; set; }
        public string DType { get; set; } = "";
        public List<string> Shape { get; set; } = new();
        public List<string> Offsets { get; set; } = new();
        public string Extra { get; set; } = "";

        public Entry Copy() => new() { Key = Key, Raw = Raw, DType = DType, Shape = Shape.ToList(), Offsets = Offsets.ToList(), Extra = Extra };

        public string ToJson() => Raw is not null
            ? $"{Key}:{Raw}"
            : $"{Key}:{{{Extra}\"dtype\":{DType},\"shape\":[{string.Join(",", Shape)}],\"data_offsets\":[{string.Join(",", Offsets)}]}}";
    }

    /// <summary>A mutated copy of <paramref name="original"/> and a description of what was changed.</summary>
    public static (byte[] Bytes, string Description) Mutate(byte[] original, Random rng)
    {
        int headerLength = (int)BinaryPrimitives.ReadUInt64LittleEndian(original);
        var entries = ParseEntries(original.AsSpan(8, headerLength));
        var data = original.AsSpan(8 + headerLength).ToArray();
        var notes = new List<string>();

        bool structural = rng.NextDouble() < 0.7;
        if (structural)
        {
            int edits = 1 + (rng.NextDouble() < 0.3 ? rng.Next(1, 3) : 0);
            for (int i = 0; i < edits; i++) notes.Add(MutateStructure(entries, data.Length, rng));
        }
        string header = "{" + string.Join(",", entries.Select(e => e.ToJson())) + "}";
        byte[] headerBytes = Encoding.UTF8.GetBytes(header);
        int padded = (headerBytes.Length + 7) / 8 * 8;
        var bytes = new byte[8 + padded + data.Length];
        ulong prefix = (ulong)padded;
        if (structural && rng.NextDouble() < 0.05)
        {
            prefix = (ulong)headerLength;
            notes.Add("kept the original header length");
        }
        BinaryPrimitives.WriteUInt64LittleEndian(bytes, prefix);
        headerBytes.CopyTo(bytes, 8);
        bytes.AsSpan(8 + headerBytes.Length, padded - headerBytes.Length).Fill((byte)' ');
        data.CopyTo(bytes, 8 + padded);

        if (!structural || rng.NextDouble() < 0.15)
        {
            bytes = MutateBytes(bytes, 8 + padded, rng, notes);
        }
        return (bytes, string.Join("; ", notes));
    }

    private static List<Entry> ParseEntries(ReadOnlySpan<byte> header)
    {
        using var document = JsonDocument.Parse(header.ToArray());
        var entries = new List<Entry>();
        foreach (var property in document.RootElement.EnumerateObject())
        {
            string key = JsonSerializer.Serialize(property.Name);
            if (property.Name == "__metadata__")
            {
                entries.Add(new Entry { Key = key, Raw = property.Value.GetRawText() });
                continue;
            }
            var value = property.Value;
            entries.Add(new Entry
            {
                Key = key,
                DType = value.GetProperty("dtype").GetRawText(),
                Shape = value.GetProperty("shape").EnumerateArray().Select(d => d.GetRawText()).ToList(),
                Offsets = value.GetProperty("data_offsets").EnumerateArray().Select(d => d.GetRawText()).ToList(),
            });
        }
        return entries;
    }

    private static string MutateStructure(List<Entry> entries, int dataLength, Random rng)
    {
        var tensors = entries.Where(e => e.Raw is null).ToList();
        var t = tensors[rng.Next(tensors.Count)];
        var u = tensors[rng.Next(tensors.Count)];
        long Begin(Entry e) => long.TryParse(e.Offsets.ElementAtOrDefault(0), out long v) ? v : 0;
        long End(Entry e) => long.TryParse(e.Offsets.ElementAtOrDefault(1), out long v) ? v : 0;
        int delta = new[] { -8, -4, -2, -1, 1, 2, 4, 8 }[rng.Next(8)];
        string name = t.Key;
        switch (rng.Next(17))
        {
            case 0:
                if (t.Offsets.Count > 0) t.Offsets[0] = (Begin(t) + delta).ToString();
                return $"{name}: begin {delta:+#;-#}";
            case 1:
                if (t.Offsets.Count > 1) t.Offsets[1] = (End(t) + delta).ToString();
                return $"{name}: end {delta:+#;-#}";
            case 2:
                t.Offsets = new List<string> { (Begin(t) + delta).ToString(), (End(t) + delta).ToString() };
                return $"{name}: range shifted by {delta}";
            case 3:
                t.Offsets = u.Offsets.ToList();
                if (rng.Next(2) == 0)
                {
                    t.DType = u.DType;
                    t.Shape = u.Shape.ToList();
                }
                return $"{name}: aliases the range of {u.Key}";
            case 4:
                (t.Offsets, u.Offsets) = (u.Offsets, t.Offsets);
                return $"{name} and {u.Key}: ranges swapped";
            case 5:
            {
                int which = rng.Next(2);
                if (t.Offsets.Count > which) t.Offsets[which] = HostileNumbers[rng.Next(HostileNumbers.Length)];
                else t.Offsets.Add("0");
                if (rng.Next(4) == 0) t.Offsets.Add("0");
                if (rng.Next(4) == 0 && t.Offsets.Count > 0) t.Offsets.RemoveAt(0);
                return $"{name}: data_offsets [{string.Join(",", t.Offsets)}]";
            }
            case 6:
            {
                if (t.Shape.Count == 0) t.Shape.Add("1");
                int axis = rng.Next(t.Shape.Count);
                long.TryParse(t.Shape[axis], out long d);
                t.Shape[axis] = rng.Next(6) switch
                {
                    0 => "0",
                    1 => (d * 2).ToString(),
                    2 => (d / 2).ToString(),
                    3 => (d + delta).ToString(),
                    _ => HostileNumbers[rng.Next(HostileNumbers.Length)],
                };
                return $"{name}: shape [{string.Join(",", t.Shape)}]";
            }
            case 7:
                switch (rng.Next(5))
                {
                    case 0: t.Shape.Insert(rng.Next(t.Shape.Count + 1), "1"); break;
                    case 1: t.Shape.Insert(rng.Next(t.Shape.Count + 1), "0"); break;
                    case 2: if (t.Shape.Count > 0) t.Shape.RemoveAt(rng.Next(t.Shape.Count)); break;
                    case 3: t.Shape = new List<string> { "0", "1099511627776", "1099511627776" }; break;
                    default: t.Shape = new List<string> { "0", "2147483648", "2147483648" }; break;
                }
                return $"{name}: shape [{string.Join(",", t.Shape)}]";
            case 8:
                t.DType = rng.Next(5) switch
                {
                    0 => "\"F8_E4M3\"",
                    1 => "42",
                    2 => "\"f32\"",
                    _ => "\"" + DTypes[rng.Next(DTypes.Length)] + "\"",
                };
                return $"{name}: dtype {t.DType}";
            case 9:
                t.Key = rng.Next(2) == 0 ? u.Key : HostileKeys[rng.Next(HostileKeys.Length)];
                return $"{name}: renamed to {Short(t.Key)}";
            case 10:
                entries.Remove(t);
                return $"{name}: removed";
            case 11:
            {
                var extra = u.Copy();
                extra.Key = JsonSerializer.Serialize("extra." + rng.Next(1000));
                switch (rng.Next(3))
                {
                    case 0: break; // aliases u
                    case 1:
                        extra.Shape = new List<string> { "0" };
                        long at = rng.Next(dataLength + 1);
                        extra.Offsets = new List<string> { at.ToString(), at.ToString() };
                        break;
                    default:
                        extra.Offsets = new List<string> { dataLength.ToString(), (dataLength + 4).ToString() };
                        extra.Shape = new List<string> { "1" };
                        extra.DType = "\"F32\"";
                        break;
                }
                entries.Insert(rng.Next(entries.Count + 1), extra);
                return $"added {extra.Key} [{string.Join(",", extra.Offsets)}]";
            }
            case 12:
            {
                var metadata = entries.FirstOrDefault(e => e.Raw is not null);
                string raw = rng.Next(6) switch
                {
                    0 => "{\"format\":3}",
                    1 => "{\"format\":\"\\ud800\"}",
                    2 => "[\"pt\"]",
                    3 => "{\"\\udc01\":\"pt\"}",
                    4 => "null",
                    _ => "{\"format\":\"pt\",\"format\":\"pt\"}",
                };
                if (metadata is null) entries.Insert(0, new Entry { Key = "\"__metadata__\"", Raw = raw });
                else if (rng.Next(4) == 0) entries.Add(new Entry { Key = "\"__metadata__\"", Raw = raw });
                else metadata.Raw = raw;
                return $"__metadata__ = {raw}";
            }
            case 13:
                t.Extra = rng.Next(3) switch
                {
                    0 => "\"note\":{\"a\":[1,2,{\"b\":null}]},",
                    1 => "\"\\ud800\":1,",
                    _ => "\"dtype\":\"F32\",",
                };
                return $"{name}: extra field {t.Extra}";
            case 14:
            {
                var shuffled = entries.OrderBy(_ => rng.Next()).ToList();
                entries.Clear();
                entries.AddRange(shuffled);
                return "entries reordered";
            }
            case 15:
            {
                var sameSize = tensors.Where(o => o != t && o.DType == t.DType && Elements(o) == Elements(t)).ToList();
                if (sameSize.Count == 0) return $"{name}: no tensor with the same size to swap shapes with";
                var other = sameSize[rng.Next(sameSize.Count)];
                (t.Shape, other.Shape) = (other.Shape, t.Shape);
                return $"{name} and {other.Key}: shapes swapped";
            }
            default:
            {
                // A same-size dtype swap keeps the layout valid: the bytes are read as another type.
                string[] partners = t.DType switch
                {
                    "\"F32\"" => new[] { "\"I32\"" },
                    "\"I64\"" => new[] { "\"F64\"" },
                    "\"F16\"" => new[] { "\"BF16\"", "\"I16\"" },
                    _ => new[] { "\"U8\"" },
                };
                t.DType = partners[rng.Next(partners.Length)];
                return $"{name}: dtype {t.DType}";
            }
        }
    }

    private static BigInteger Elements(Entry e)
    {
        BigInteger n = 1;
        foreach (string d in e.Shape) n *= BigInteger.TryParse(d, out var v) ? v : -1;
        return n;
    }

    private static string Short(string text) => text.Length <= 24 ? text : text[..24] + "…";

    private static byte[] MutateBytes(byte[] bytes, int dataStart, Random rng, List<string> notes)
    {
        int headerEnd = Math.Min(dataStart, bytes.Length);
        switch (rng.Next(8))
        {
            case 0:
            {
                int flips = rng.Next(1, 5);
                for (int i = 0; i < flips; i++) bytes[8 + rng.Next(headerEnd - 8)] ^= (byte)(1 << rng.Next(8));
                notes.Add($"{flips} header bit flips");
                return bytes;
            }
            case 1:
            {
                const string syntax = "\"\\{}[],:09-e ";
                int at = 8 + rng.Next(headerEnd - 8);
                bytes[at] = (byte)syntax[rng.Next(syntax.Length)];
                notes.Add($"header byte {at} = '{(char)bytes[at]}'");
                return bytes;
            }
            case 2:
            {
                ulong length = BinaryPrimitives.ReadUInt64LittleEndian(bytes);
                ulong changed = rng.Next(5) switch
                {
                    0 => length + 1,
                    1 => length - 1,
                    2 => length + 8,
                    3 => (ulong)rng.NextInt64(),
                    _ => length - 8,
                };
                BinaryPrimitives.WriteUInt64LittleEndian(bytes, changed);
                notes.Add($"header length {length} -> {changed}");
                return bytes;
            }
            case 3:
            {
                int keep = rng.Next(bytes.Length);
                notes.Add($"truncated to {keep} bytes");
                return bytes[..keep];
            }
            case 4:
            {
                var tail = new byte[rng.Next(1, 17)];
                rng.NextBytes(tail);
                notes.Add($"{tail.Length} bytes appended");
                return bytes.Concat(tail).ToArray();
            }
            case 5:
            {
                if (bytes.Length <= dataStart) goto case 4;
                int flips = rng.Next(1, 9);
                for (int i = 0; i < flips; i++) bytes[dataStart + rng.Next(bytes.Length - dataStart)] ^= (byte)rng.Next(1, 256);
                notes.Add($"{flips} data bytes changed");
                return bytes;
            }
            case 6:
            {
                if (bytes.Length <= dataStart) goto case 4;
                int at = dataStart + rng.Next(bytes.Length - dataStart);
                var inserted = new byte[rng.Next(1, 9)];
                notes.Add($"{inserted.Length} bytes inserted at {at}");
                return bytes[..at].Concat(inserted).Concat(bytes[at..]).ToArray();
            }
            default:
            {
                if (bytes.Length <= dataStart) goto case 3;
                int at = dataStart + rng.Next(bytes.Length - dataStart);
                int count = Math.Min(rng.Next(1, 9), bytes.Length - at);
                notes.Add($"{count} bytes deleted at {at}");
                return bytes[..at].Concat(bytes[(at + count)..]).ToArray();
            }
        }
    }

    /// <summary>
    /// Opens <paramref name="path"/> and loads every tensor, on a worker with a time limit, and classifies the
    /// outcome. <paramref name="allocationFactor"/> bounds the managed bytes allocated to that multiple of the file
    /// size plus 256 KB.
    /// </summary>
    public static (FuzzOutcome Outcome, string Detail) Check(string path, byte[] bytes, TimeSpan limit, double allocationFactor)
    {
        var work = Task.Run(() =>
        {
            long before = GC.GetAllocatedBytesForCurrentThread();
            try
            {
                using var file = SafeTensorsFile.Open(path);
                string? problem = Verify(file, bytes);
                long allocated = GC.GetAllocatedBytesForCurrentThread() - before;
                if (problem is not null) return (FuzzOutcome.InvalidAccepted, problem);
                if (allocated > allocationFactor * bytes.Length + 256 * 1024)
                {
                    return (FuzzOutcome.Overallocated, $"{allocated:N0} bytes allocated for a {bytes.Length:N0}-byte file");
                }
                return (FuzzOutcome.Accepted, "");
            }
            catch (SafeTensorsFormatException e) when (e.FilePath == path && e.Message.Contains(path, StringComparison.Ordinal))
            {
                long allocated = GC.GetAllocatedBytesForCurrentThread() - before;
                if (allocated > allocationFactor * bytes.Length + 256 * 1024)
                {
                    return (FuzzOutcome.Overallocated, $"{allocated:N0} bytes allocated before rejecting a {bytes.Length:N0}-byte file");
                }
                return (FuzzOutcome.Rejected, e.Problem);
            }
            catch (Exception e)
            {
                return (FuzzOutcome.Untyped, e.ToString());
            }
        });
        if (!work.Wait(limit)) return (FuzzOutcome.Hang, $"no result after {limit.TotalSeconds} s");
        return work.Result;
    }

    /// <summary>
    /// Independent of the reader: the header as JSON lists exactly the tensors the reader reports, each range's
    /// length is its shape times its item size, the ranges tile the data region, and each loaded tensor holds the
    /// bytes of its range. Returns the first problem, or null.
    /// </summary>
    private static string? Verify(SafeTensorsFile file, byte[] bytes)
    {
        if (bytes.Length < 8) return "accepted a file shorter than the length prefix";
        ulong headerLength = BinaryPrimitives.ReadUInt64LittleEndian(bytes);
        if (headerLength > (ulong)bytes.Length - 8) return "accepted a header longer than the file";
        long dataStart = 8 + (long)headerLength;
        long dataLength = bytes.Length - dataStart;
        JsonDocument document;
        try
        {
            document = JsonDocument.Parse(bytes.AsMemory(8, (int)headerLength));
        }
        catch (JsonException e)
        {
            return $"accepted a header that is not JSON: {e.Message}";
        }
        using (document)
        {
            var ranges = new List<(long Begin, long End, string Name)>();
            int count = 0;
            foreach (var property in document.RootElement.EnumerateObject())
            {
                if (property.Name == "__metadata__") continue;
                count++;
                if (!file.TryGetInfo(property.Name, out var info)) return $"the reader does not list tensor '{property.Name}'";
                var value = property.Value;
                string dtype = value.GetProperty("dtype").GetString()!;
                long[] shape = value.GetProperty("shape").EnumerateArray().Select(d => d.GetInt64()).ToArray();
                long[] offsets = value.GetProperty("data_offsets").EnumerateArray().Select(d => d.GetInt64()).ToArray();
                if (dtype != info.DType || !shape.SequenceEqual(info.Shape) || offsets.Length != 2 || offsets[0] != info.Begin || offsets[1] != info.End)
                {
                    return $"'{property.Name}': the reader reports {info.DType} [{string.Join(",", info.Shape)}] [{info.Begin},{info.End}], the header says otherwise";
                }
                BigInteger needed = shape.Aggregate(BigInteger.One, (n, d) => n * d) * SafeTensorDTypes.ItemSize(dtype);
                if (needed != offsets[1] - offsets[0]) return $"'{property.Name}': {offsets[1] - offsets[0]} bytes for a shape that needs {needed}";
                ranges.Add((offsets[0], offsets[1], property.Name));
            }
            if (count != file.Tensors.Count) return $"the header has {count} tensors, the reader lists {file.Tensors.Count}";
            long expected = 0;
            foreach (var (begin, end, name) in ranges.OrderBy(r => r.Begin).ThenBy(r => r.End))
            {
                if (begin != expected) return $"'{name}' begins at {begin}, where {expected} was expected: the ranges do not tile the data";
                expected = end;
            }
            if (expected != dataLength) return $"the ranges end at {expected} but the data region has {dataLength} bytes";
            foreach (var (begin, end, name) in ranges)
            {
                using var tensor = file.Load(name);
                if (!tensor.bytes.SequenceEqual(bytes.AsSpan((int)(dataStart + begin), (int)(end - begin))))
                {
                    return $"'{name}' does not hold the bytes of its range [{begin}, {end})";
                }
            }
        }
        return null;
    }
}
