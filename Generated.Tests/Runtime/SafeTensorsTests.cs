using System;
using System.Buffers.Binary;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using System.Text;
using System.Text.Json;
using RnaLm.IO;
using TorchSharp;
using Xunit;

namespace RnaLm.Tests.Runtime;

public sealed class SafeTensorsTests : IDisposable
{
    private readonly string _dir = Path.Combine(Path.GetTempPath(), "rnalm-safetensors-" + Guid.NewGuid().ToString("N"));

    public SafeTensorsTests() => Directory.CreateDirectory(_dir);

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private string TempFile(string name = "t.safetensors") => Path.Combine(_dir, name);

    public static TheoryData<string> DTypes => new() { "F32", "F16", "BF16", "F64", "I64", "I32", "I16", "I8", "U8", "BOOL" };

    private static torch.Tensor Sample(string dtype) => dtype switch
    {
        "F32" => torch.tensor(new[] { 1.5f, -2.25f, 3.4e38f, 1e-30f, 0f, -7f }).reshape(2, 3),
        "F64" => torch.tensor(new[] { 1e300, -2.5, Math.PI, 0, -1e-300, 42 }).reshape(3, 2),
        "F16" => torch.tensor(new[] { 0.5f, -2f, 65504f, 1.0009765625f, 0f, -0.125f }).reshape(2, 3).to_type(torch.ScalarType.Float16),
        "BF16" => torch.tensor(new[] { 1f, -2.5f, 3.0e38f, 0.0078125f, 0f, 96f }).reshape(1, 2, 3).to_type(torch.ScalarType.BFloat16),
        "I64" => torch.tensor(new[] { long.MinValue, long.MaxValue, 0L, -1L, 1234567890123L, 7L }).reshape(2, 3),
        "I32" => torch.tensor(new[] { int.MinValue, int.MaxValue, 0, -1, 5, 6 }).reshape(6),
        "I16" => torch.tensor(new short[] { short.MinValue, short.MaxValue, 0, -1, 5, 6 }).reshape(2, 3),
        "I8" => torch.tensor(new sbyte[] { sbyte.MinValue, sbyte.MaxValue, 0, -1, 5, 6 }).reshape(2, 3),
        "U8" => torch.tensor(new byte[] { 0, 255, 1, 128, 5, 6 }).reshape(3, 2),
        "BOOL" => torch.tensor(new[] { true, false, false, true, true, false }).reshape(2, 3),
        _ => throw new ArgumentOutOfRangeException(nameof(dtype)),
    };

    private static bool SameValues(torch.Tensor a, torch.Tensor b)
    {
        using var equal = a.eq(b);
        using var all = equal.all();
        return all.item<bool>();
    }

    [Theory]
    [MemberData(nameof(DTypes))]
    public void RoundTripPreservesDtypeShapeAndValues(string dtype)
    {
        using var original = Sample(dtype);
        using var scalar = Sample(dtype).flatten()[1];
        string path = TempFile();
        SafeTensors.Save(path, new Dictionary<string, torch.Tensor> { ["x"] = original, ["s"] = scalar });

        using var file = SafeTensorsFile.Open(path);
        Assert.Equal(["x", "s"], file.Tensors.Select(t => t.Name));
        Assert.Equal(dtype, file.Tensors[0].DType);
        Assert.Equal(original.shape, file.Tensors[0].Shape);
        Assert.Empty(file.Tensors[1].Shape);

        using var loaded = file.Load("x");
        Assert.Equal(original.dtype, loaded.dtype);
        Assert.Equal(original.shape, loaded.shape);
        Assert.True(SameValues(loaded, original), $"values of {dtype} changed in a round trip");

        using var loadedScalar = file.Load("s");
        Assert.Equal(0, loadedScalar.dim());
        Assert.Equal(original.dtype, loadedScalar.dtype);
        Assert.True(SameValues(loadedScalar, scalar));
    }

    [Fact]
    public void WritesLittleEndianDataAfterAHeaderPaddedToEightBytes()
    {
        string path = TempFile();
        using var one = torch.tensor(new[] { 1f });
        using var two = torch.tensor(new[] { 2L });
        var metadata = new Dictionary<string, string> { ["format"] = "pt" };
        SafeTensors.Save(path, [new("b", one), new("a", two)], metadata);

        byte[] bytes = File.ReadAllBytes(path);
        long headerLength = (long)BinaryPrimitives.ReadUInt64LittleEndian(bytes);
        Assert.Equal(0, headerLength % 8);
        string header = Encoding.UTF8.GetString(bytes, 8, (int)headerLength);
        Assert.StartsWith("{\"__metadata__\":{\"format\":\"pt\"},\"b\":", header);
        Assert.True(header.IndexOf("\"b\"", StringComparison.Ordinal) < header.IndexOf("\"a\"", StringComparison.Ordinal));
        Assert.Equal(header.TrimEnd(' ').Length, header.TrimEnd().Length);
        using (var document = JsonDocument.Parse(header))
        {
            Assert.Equal("[0,4]", document.RootElement.GetProperty("b").GetProperty("data_offsets").GetRawText());
            Assert.Equal("[4,12]", document.RootElement.GetProperty("a").GetProperty("data_offsets").GetRawText());
        }
        Assert.Equal(new byte[] { 0x00, 0x00, 0x80, 0x3F }, bytes.Skip(8 + (int)headerLength).Take(4));
        Assert.Equal(new byte[] { 2, 0, 0, 0, 0, 0, 0, 0 }, bytes.Skip(12 + (int)headerLength).Take(8));
        Assert.Equal(8 + headerLength + 12, bytes.Length);

        using var file = SafeTensorsFile.Open(path);
        Assert.Equal("pt", file.Metadata["format"]);
        Assert.Single(file.Metadata);
    }

    [Fact]
    public void MetadataIsEmptyWhenAbsentAndZeroSizedTensorsWork()
    {
        string path = TempFile();
        using var empty = torch.zeros(0, 4);
        SafeTensors.Save(path, [new("empty", empty)]);
        using var file = SafeTensorsFile.Open(path);
        Assert.Empty(file.Metadata);
        Assert.Equal(0, file.Tensors[0].ByteLength);
        using var loaded = file.Load("empty");
        Assert.Equal(new long[] { 0, 4 }, loaded.shape);
    }

    [Fact]
    public void SavesNonContiguousTensorsAsTheirLogicalValues()
    {
        string path = TempFile();
        using var matrix = torch.arange(6, dtype: torch.ScalarType.Float32).reshape(2, 3);
        using var transposed = matrix.t();
        Assert.False(transposed.is_contiguous());
        SafeTensors.Save(path, [new("t", transposed)]);
        using var file = SafeTensorsFile.Open(path);
        using var loaded = file.Load("t");
        Assert.Equal(new long[] { 3, 2 }, loaded.shape);
        Assert.Equal(new[] { 0f, 3f, 1f, 4f, 2f, 5f }, loaded.data<float>().ToArray());
        Assert.True(matrix.is_contiguous(), "the caller's tensor must be left alone");
    }

    [Fact]
    public void LoadedTensorsOwnTheirMemory()
    {
        string path = TempFile();
        using (var source = torch.tensor(new[] { 1f, 2f, 3f }))
        {
            SafeTensors.Save(path, [new("v", source)]);
        }
        torch.Tensor first;
        using (var file = SafeTensorsFile.Open(path))
        {
            first = file.Load("v");
            using var second = file.Load("v");
            first.mul_(10);
            Assert.Equal(new[] { 1f, 2f, 3f }, second.data<float>().ToArray());
        }
        using (first)
        {
            Assert.Equal(new[] { 10f, 20f, 30f }, first.data<float>().ToArray());
        }
        File.Delete(path);
    }

    [Fact]
    public void NarrowedViewsExposeTheirOwnBytes()
    {
        // Tensors above 1 GiB are copied through narrowed views of the flattened tensor; this pins the
        // assumption that a view's byte span starts at its own storage offset.
        using var t = torch.arange(10, dtype: torch.ScalarType.Int32);
        using var part = t.narrow(0, 3, 4);
        var bytes = part.bytes;
        Assert.Equal(16, bytes.Length);
        Assert.Equal(3, BinaryPrimitives.ReadInt32LittleEndian(bytes));
        Assert.Equal(6, BinaryPrimitives.ReadInt32LittleEndian(bytes[12..]));
    }

    [Fact]
    public void SaveReplacesAnExistingFileAndLeavesNoTemporaryFile()
    {
        string path = TempFile();
        File.WriteAllText(path, "old contents");
        using var v = torch.ones(3);
        SafeTensors.Save(path, [new("v", v)]);
        Assert.Equal([path], Directory.GetFiles(_dir));
        using var file = SafeTensorsFile.Open(path);
        Assert.True(file.Contains("v"));
        Assert.False(file.Contains("w"));
    }

    [Fact]
    public void DuplicateNamesAreRejectedBeforeAnythingIsWritten()
    {
        string path = TempFile();
        File.WriteAllText(path, "keep me");
        using var a = torch.ones(1);
        using var b = torch.ones(2);
        var e = Assert.Throws<ArgumentException>(() => SafeTensors.Save(path, [new("w", a), new("w", b)]));
        Assert.Contains("'w'", e.Message);
        Assert.Equal("keep me", File.ReadAllText(path));
        Assert.Equal([path], Directory.GetFiles(_dir));
    }

    [Fact]
    public void FailedWriteDeletesTheTemporaryFile()
    {
        string path = Path.Combine(_dir, "target-is-a-directory");
        Directory.CreateDirectory(path);
        using var v = torch.ones(2);
        Assert.ThrowsAny<Exception>(() => SafeTensors.Save(path, [new("v", v)]));
        Assert.Empty(Directory.GetFiles(_dir));
    }

    [Fact]
    public void UnsupportedElementTypesAreRejectedWithTheTensorName()
    {
        using var complex = torch.zeros(2, dtype: torch.ScalarType.ComplexFloat32);
        var e = Assert.Throws<ArgumentException>(() => SafeTensors.Save(TempFile(), [new("z", complex)]));
        Assert.Contains("'z'", e.Message);
        Assert.Empty(Directory.GetFiles(_dir));
    }

    [Fact]
    public void ReadsTheSpliceBertFixture()
    {
        string path = Path.Combine(Fixtures.Models("splicebert"), "model.safetensors");
        using var file = SafeTensorsFile.Open(path);
        Assert.Equal("pt", file.Metadata["format"]);
        Assert.Equal(42, file.Tensors.Count);
        Assert.Equal("model.embeddings.word_embeddings.weight", file.Tensors[0].Name);
        Assert.Equal("lm_head.transform.layer_norm.bias", file.Tensors[^1].Name);

        var info = file.Tensors.Single(t => t.Name == "model.embeddings.position_embeddings.weight");
        Assert.Equal(new long[] { 40, 32 }, info.Shape);
        Assert.Equal("F32", info.DType);
        Assert.Equal(3584, info.Begin);
        Assert.Equal(8704, info.End);
        Assert.True(file.TryGetInfo("model.encoder.layer.1.intermediate.dense.weight", out var ffn));
        Assert.Equal(new long[] { 64, 32 }, ffn.Shape);
        Assert.False(file.Contains("lm_head.decoder.weight"));

        using var embeddings = file.Load("model.embeddings.word_embeddings.weight");
        Assert.Equal(new long[] { 28, 32 }, embeddings.shape);
        Assert.Equal(torch.ScalarType.Float32, embeddings.dtype);
        var firstRow = embeddings[0].data<float>().ToArray();
        Assert.Equal(-0.36254239082336426f, firstRow[0]);
        Assert.Equal(-0.46086856722831726f, firstRow[3]);

        var all = file.LoadAll();
        try
        {
            Assert.Equal(file.Tensors.Select(t => t.Name), all.Keys);
            Assert.Equal(new long[] { 28 }, all["lm_head.bias"].shape);
        }
        finally
        {
            foreach (var t in all.Values)
            {
                t.Dispose();
            }
        }
    }

    [Fact]
    public void LoadsNumBatchesTrackedAsAnInt64Scalar()
    {
        string path = Path.Combine(Fixtures.Models("ernierna-ss"), "model.safetensors");
        using var file = SafeTensorsFile.Open(path);
        using var tracked = file.Load("ss_head.convnet.blocks.0.norm.num_batches_tracked");
        Assert.Equal(torch.ScalarType.Int64, tracked.dtype);
        Assert.Equal(0, tracked.dim());
        Assert.Equal(4081L, tracked.item<long>());
    }

    [Fact]
    public void UnknownTensorNameThrowsKeyNotFound()
    {
        using var file = SafeTensorsFile.Open(Path.Combine(Fixtures.Models("splicebert"), "model.safetensors"));
        var e = Assert.Throws<KeyNotFoundException>(() => file.Load("model.nope"));
        Assert.Contains("model.nope", e.Message);
        Assert.Contains("model.safetensors", e.Message);
    }

    [Fact]
    public void LoadAfterDisposeThrows()
    {
        var file = SafeTensorsFile.Open(Path.Combine(Fixtures.Models("splicebert"), "model.safetensors"));
        file.Dispose();
        Assert.Throws<ObjectDisposedException>(() => file.Load("lm_head.bias"));
    }

    // ---- malformed files -------------------------------------------------------------------------------------

    private string WriteRaw(byte[] bytes)
    {
        string path = TempFile("bad.safetensors");
        File.WriteAllBytes(path, bytes);
        return path;
    }

    private string WriteWithHeader(string json, int dataBytes = 0, ulong? declaredLength = null)
    {
        byte[] header = Encoding.UTF8.GetBytes(json);
        var bytes = new byte[8 + header.Length + dataBytes];
        BinaryPrimitives.WriteUInt64LittleEndian(bytes, declaredLength ?? (ulong)header.Length);
        header.CopyTo(bytes, 8);
        return WriteRaw(bytes);
    }

    private static SafeTensorsFormatException AssertInvalid(string path, string expected, string? tensor = null)
    {
        var e = Assert.Throws<SafeTensorsFormatException>(() => SafeTensorsFile.Open(path).Dispose());
        Assert.Contains(expected, e.Message);
        Assert.Contains(path, e.Message);
        Assert.Equal(path, e.FilePath);
        Assert.Equal(tensor, e.TensorName);
        if (tensor is not null)
        {
            Assert.Contains($"'{tensor}'", e.Message);
        }
        return e;
    }

    [Fact]
    public void RejectsFileShorterThanEightBytes() =>
        AssertInvalid(WriteRaw([1, 2, 3]), "shorter than the 8-byte header length prefix");

    [Fact]
    public void RejectsHeaderLengthLargerThanFile() =>
        AssertInvalid(WriteWithHeader("{}", declaredLength: 64), "larger than the rest of the file");

    [Fact]
    public void RejectsAbsurdHeaderLength() =>
        AssertInvalid(WriteWithHeader("{}", declaredLength: 200UL * 1024 * 1024), "100 MB limit");

    [Fact]
    public void RejectsEmptyHeader() =>
        AssertInvalid(WriteWithHeader(""), "header is empty");

    [Fact]
    public void RejectsHeaderThatIsNotUtf8()
    {
        var bytes = new byte[8 + 4];
        BinaryPrimitives.WriteUInt64LittleEndian(bytes, 4);
        new byte[] { (byte)'{', 0xFF, 0xFE, (byte)'}' }.CopyTo(bytes, 8);
        AssertInvalid(WriteRaw(bytes), "not valid UTF-8");
    }

    [Fact]
    public void RejectsHeaderThatIsNotJson() =>
        AssertInvalid(WriteWithHeader("{\"a\": {\"dtype\": "), "not valid JSON");

    [Fact]
    public void RejectsHeaderThatIsNotAnObject() =>
        AssertInvalid(WriteWithHeader("[1, 2]"), "expected a JSON object");

    [Fact]
    public void RejectsEntryMissingDtype() =>
        AssertInvalid(WriteWithHeader("{\"w\":{\"shape\":[1],\"data_offsets\":[0,4]}}", 4), "missing 'dtype'", "w");

    [Fact]
    public void RejectsEntryMissingShape() =>
        AssertInvalid(WriteWithHeader("{\"w\":{\"dtype\":\"F32\",\"data_offsets\":[0,4]}}", 4), "missing 'shape'", "w");

    [Fact]
    public void RejectsEntryMissingDataOffsets() =>
        AssertInvalid(WriteWithHeader("{\"w\":{\"dtype\":\"F32\",\"shape\":[1]}}", 4), "missing 'data_offsets'", "w");

    [Fact]
    public void RejectsEntryThatIsNotAnObject() =>
        AssertInvalid(WriteWithHeader("{\"w\":[1,2]}"), "expected an object with dtype", "w");

    [Fact]
    public void RejectsUnknownDtype() =>
        AssertInvalid(WriteWithHeader("{\"w\":{\"dtype\":\"F8_E4M3\",\"shape\":[1],\"data_offsets\":[0,1]}}", 1),
            "unsupported dtype 'F8_E4M3'", "w");

    [Fact]
    public void RejectsNegativeDimension() =>
        AssertInvalid(WriteWithHeader("{\"w\":{\"dtype\":\"F32\",\"shape\":[2,-1],\"data_offsets\":[0,4]}}", 4),
            "shape[1] is negative", "w");

    [Fact]
    public void RejectsNonIntegerDimension() =>
        AssertInvalid(WriteWithHeader("{\"w\":{\"dtype\":\"F32\",\"shape\":[1.5],\"data_offsets\":[0,4]}}", 4),
            "expected a non-negative integer", "w");

    [Fact]
    public void RejectsOffsetsOutsideTheDataRegion() =>
        AssertInvalid(WriteWithHeader("{\"w\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]}}", 4),
            "outside the data region", "w");

    [Fact]
    public void RejectsNegativeOffset() =>
        AssertInvalid(WriteWithHeader("{\"w\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[-4,0]}}", 4),
            "begin is negative", "w");

    [Fact]
    public void RejectsBeginAfterEnd() =>
        AssertInvalid(WriteWithHeader("{\"w\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[8,4]}}", 8),
            "begin 8 is greater than end 4", "w");

    [Fact]
    public void RejectsByteLengthThatDoesNotMatchTheShape() =>
        AssertInvalid(WriteWithHeader("{\"w\":{\"dtype\":\"F32\",\"shape\":[3],\"data_offsets\":[0,8]}}", 8),
            "does not match shape [3] of F32, which needs 3 x 4 = 12 bytes", "w");

    [Fact]
    public void RejectsMalformedDataOffsets() =>
        AssertInvalid(WriteWithHeader("{\"w\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0]}}", 4),
            "expected [begin, end]", "w");

    [Fact]
    public void RejectsNonStringMetadata() =>
        AssertInvalid(WriteWithHeader("{\"__metadata__\":{\"epoch\":3}}"), "'__metadata__' entry 'epoch'");

    [Fact]
    public void RejectsDuplicateTensorNamesInTheHeader() =>
        AssertInvalid(WriteWithHeader(
                "{\"w\":{\"dtype\":\"U8\",\"shape\":[1],\"data_offsets\":[0,1]},\"w\":{\"dtype\":\"U8\",\"shape\":[1],\"data_offsets\":[0,1]}}", 1),
            "lists this tensor twice", "w");

    [Fact]
    public void AcceptsAHandWrittenFileWithHeaderPaddingAndTensorsInAnyHeaderOrder()
    {
        string path = WriteWithHeader(
            "{\"b\":{\"dtype\":\"U8\",\"shape\":[2],\"data_offsets\":[4,6]},\"a\":{\"dtype\":\"I16\",\"shape\":[2],\"data_offsets\":[0,4]}}   ", 6);
        byte[] bytes = File.ReadAllBytes(path);
        int data = bytes.Length - 6;
        new byte[] { 0x01, 0x02, 0xFF, 0xFF, 0x07, 0x08 }.CopyTo(bytes, data);
        File.WriteAllBytes(path, bytes);
        using var file = SafeTensorsFile.Open(path);
        using var a = file.Load("a");
        using var b = file.Load("b");
        Assert.Equal(new short[] { 0x0201, -1 }, a.data<short>().ToArray());
        Assert.Equal(new byte[] { 7, 8 }, b.data<byte>().ToArray());
    }
}
