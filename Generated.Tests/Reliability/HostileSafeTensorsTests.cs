using System;
using System.Buffers.Binary;
using System.Diagnostics;
using System.IO;
using System.Linq;
using System.Text;
using System.Threading.Tasks;
using RnaLm.IO;
using Xunit;

namespace RnaLm.Tests.Reliability;

/// <summary>
/// Safetensors files whose header is well-formed JSON but whose layout is not what the format requires, or that are
/// not regular files at all: each is a <see cref="SafeTensorsFormatException"/> naming the file (and the tensor), never
/// tensors read from another tensor's bytes, a libtorch failure, an untyped exception or a blocked read.
/// </summary>
public sealed class HostileSafeTensorsTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("rnalm-hostile-st-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private string Write(string header, int dataBytes, string name = "bad.safetensors")
    {
        byte[] json = Encoding.UTF8.GetBytes(header);
        var bytes = new byte[8 + json.Length + dataBytes];
        BinaryPrimitives.WriteUInt64LittleEndian(bytes, (ulong)json.Length);
        json.CopyTo(bytes, 8);
        for (int i = 0; i < dataBytes; i++) bytes[8 + json.Length + i] = (byte)(i + 1);
        string path = Path.Combine(_dir, name);
        File.WriteAllBytes(path, bytes);
        return path;
    }

    private static string Entry(string name, string dtype, string shape, long begin, long end) =>
        $"\"{name}\":{{\"dtype\":\"{dtype}\",\"shape\":{shape},\"data_offsets\":[{begin},{end}]}}";

    private static SafeTensorsFormatException Rejected(string path, string expected, string? tensor = null)
    {
        var e = Assert.Throws<SafeTensorsFormatException>(() => SafeTensorsFile.Open(path).Dispose());
        Assert.Contains(expected, e.Message);
        Assert.Contains(path, e.Message);
        Assert.Equal(path, e.FilePath);
        if (tensor is not null) Assert.Equal(tensor, e.TensorName);
        return e;
    }

    [Fact]
    public void OverlappingRangesAreRejected() =>
        Rejected(Write("{" + Entry("a", "F32", "[2]", 0, 8) + "," + Entry("b", "F32", "[2]", 4, 12) + "}", 12),
            "overlap those of tensor 'a' [0, 8]", "b");

    [Fact]
    public void TwoTensorsAliasingTheSameBytesAreRejected() =>
        Rejected(Write("{" + Entry("a", "F32", "[2]", 0, 8) + "," + Entry("b", "I32", "[2]", 0, 8) + "}", 8),
            "overlap", "b");

    [Fact]
    public void AZeroSizeTensorInsideAnotherTensorIsRejected() =>
        Rejected(Write("{" + Entry("a", "F32", "[2]", 0, 8) + "," + Entry("z", "F32", "[0]", 4, 4) + "}", 8),
            "overlap", "z");

    [Fact]
    public void ARangeShiftedAwayFromTheStartOfTheDataIsRejected() =>
        Rejected(Write("{" + Entry("a", "F32", "[2]", 4, 12) + "}", 12),
            "leave bytes [0, 4) after the start of the data region unused", "a");

    [Fact]
    public void AGapBetweenTensorsIsRejected() =>
        Rejected(Write("{" + Entry("a", "F32", "[1]", 0, 4) + "," + Entry("b", "F32", "[1]", 8, 12) + "}", 12),
            "leave bytes [4, 8) after tensor 'a' unused", "b");

    [Fact]
    public void BytesAfterTheLastTensorAreRejected() =>
        Rejected(Write("{" + Entry("a", "F32", "[1]", 0, 4) + "}", 9),
            "the data region is 9 bytes but the last tensor, 'a', ends at 4; 5 bytes belong to no tensor");

    [Fact]
    public void DataWithoutAnyTensorIsRejected() =>
        Rejected(Write("{\"__metadata__\":{\"format\":\"pt\"}}", 16), "the header lists no tensor data");

    [Fact]
    public void TensorsTilingTheDataInAnyOrderWithZeroSizeTensorsBetweenThemLoadTheirOwnBytes()
    {
        string path = Write("{" + Entry("c", "U8", "[2]", 6, 8) + "," + Entry("z", "F32", "[0, 3]", 4, 4) + "," +
            Entry("a", "I16", "[2]", 0, 4) + "," + Entry("y", "U8", "[0]", 8, 8) + "," + Entry("b", "U8", "[2]", 4, 6) + "}", 8);
        using var file = SafeTensorsFile.Open(path);
        using var a = file.Load("a");
        using var b = file.Load("b");
        using var c = file.Load("c");
        using var z = file.Load("z");
        Assert.Equal(new short[] { 0x0201, 0x0403 }, a.data<short>().ToArray());
        Assert.Equal(new byte[] { 5, 6 }, b.data<byte>().ToArray());
        Assert.Equal(new byte[] { 7, 8 }, c.data<byte>().ToArray());
        Assert.Equal(new long[] { 0, 3 }, z.shape);
    }

    [Theory]
    [InlineData("[0, 1099511627776, 1099511627776]")] // 2^40 x 2^40: the non-zero dimensions overflow 64 bits
    [InlineData("[2147483648, 0, 2147483648]")] // 2^62 elements fit, 2^64 bytes of F32 do not
    [InlineData("[9223372036854775807, 0, 2]")]
    public void AZeroDimensionDoesNotHideAShapeThatOverflows(string shape)
    {
        var e = Rejected(Write("{" + Entry("w", "F32", shape, 0, 0) + "}", 0), "needs more bytes than a 64-bit count can hold", "w");
        Assert.Contains("zero dimension", e.Message);
    }

    [Fact]
    public void AnEmptyTensorWithLargeButRepresentableDimensionsLoads()
    {
        string path = Write("{" + Entry("w", "F32", "[0, 1073741824, 1073741824]", 0, 0) + "}", 0);
        using var file = SafeTensorsFile.Open(path);
        using var w = file.Load("w");
        Assert.Equal(0, w.NumberOfElements);
        Assert.Equal(new long[] { 0, 1L << 30, 1L << 30 }, w.shape);
    }

    [Fact]
    public void MoreThanSixtyFourDimensionsAreRejected() =>
        Rejected(Write("{" + Entry("w", "F32", "[" + string.Join(",", Enumerable.Repeat("1", 65)) + "]", 0, 4) + "}", 4),
            "more than 64 dimensions", "w");

    [Theory]
    [InlineData("{\"\\ud800\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4]}}", "a tensor name")]
    [InlineData("{\"w\\udc00\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4]}}", "a tensor name")]
    [InlineData("{\"__metadata__\":{\"format\":\"\\ud83d\"},\"w\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4]}}", "'__metadata__' entry 'format'")]
    [InlineData("{\"__metadata__\":{\"\\udfff\":\"pt\"},\"w\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4]}}", "a '__metadata__' key")]
    [InlineData("{\"w\":{\"dtype\":\"F3\\ud800\",\"shape\":[1],\"data_offsets\":[0,4]}}", "'dtype'")]
    [InlineData("{\"w\":{\"\\ud800\":1,\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4]}}", "a field name")]
    public void EscapedLoneSurrogatesAreAFormatError(string header, string where)
    {
        var e = Rejected(Write(header, 4), "lone surrogate");
        Assert.Contains(where, e.Message);
    }

    [Fact]
    public void AFolderIsAFormatErrorNotAnAccessError()
    {
        string folder = Path.Combine(_dir, "model.safetensors");
        Directory.CreateDirectory(folder);
        Rejected(folder, "it is a folder, not a regular file");
    }

    [Fact]
    public void ACharacterDeviceIsRejectedWithoutReadingIt()
    {
        if (!File.Exists("/dev/zero")) return;
        Rejected("/dev/zero", "it is a character device, not a regular file");
    }

    [Fact]
    public async Task ANamedPipeIsRejectedInsteadOfWaitingForAWriter()
    {
        if (!OperatingSystem.IsLinux()) return;
        string fifo = Path.Combine(_dir, "model.safetensors");
        using (var mkfifo = Process.Start(new ProcessStartInfo("mkfifo", fifo) { UseShellExecute = false }))
        {
            mkfifo!.WaitForExit();
            Assert.Equal(0, mkfifo.ExitCode);
        }
        var open = Task.Run(() => SafeTensorsFile.Open(fifo).Dispose());
        bool finished = await Task.WhenAny(open, Task.Delay(TimeSpan.FromSeconds(20))) == open;
        if (!finished)
        {
            // Release the blocked reader before failing, so the test run does not hang.
            await using var writer = new FileStream(fifo, FileMode.Open, FileAccess.Write);
            Assert.Fail("Opening a FIFO as a safetensors file blocked.");
        }
        var e = Assert.IsType<SafeTensorsFormatException>(open.Exception!.InnerException);
        Assert.Contains("named pipe (FIFO)", e.Message);
        Assert.Contains(fifo, e.Message);
    }

    [Fact]
    public void ASymbolicLinkToARegularFileIsFollowed()
    {
        string real = Write("{" + Entry("a", "U8", "[1]", 0, 1) + "}", 1, "real.safetensors");
        string link = Path.Combine(_dir, "link.safetensors");
        File.CreateSymbolicLink(link, real);
        using var file = SafeTensorsFile.Open(link);
        Assert.Equal("a", file.Tensors.Single().Name);
    }

    [Fact]
    public void ManyZeroSizeTensorsCostTimeAndMemoryInProportionToTheHeader()
    {
        const int count = 200_000;
        var header = new StringBuilder("{");
        for (int i = 0; i < count; i++)
        {
            if (i > 0) header.Append(',');
            header.Append(Entry("t" + i, "F32", "[0]", 0, 0));
        }
        header.Append('}');
        string path = Write(header.ToString(), 0);
        long fileBytes = new FileInfo(path).Length;

        var clock = Stopwatch.StartNew();
        long before = GC.GetAllocatedBytesForCurrentThread();
        using (var file = SafeTensorsFile.Open(path))
        {
            Assert.Equal(count, file.Tensors.Count);
        }
        long allocated = GC.GetAllocatedBytesForCurrentThread() - before;
        Assert.True(allocated < 8 * fileBytes, $"opening a {fileBytes:N0}-byte file allocated {allocated:N0} bytes");
        Assert.True(clock.Elapsed < TimeSpan.FromSeconds(10), $"opening took {clock.Elapsed}");
    }
}
