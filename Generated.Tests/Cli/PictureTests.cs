using System;
using System.IO;
using System.Linq;
using System.Text.Json.Nodes;
using System.Xml.Linq;
using RnaLm.Cli.Plots;
using RnaLm.IO;
using RnaLm.Structure;
using Xunit;
using static RnaLm.Tests.Cli.CliHarness;

namespace RnaLm.Tests.Cli;

/// <summary>Structure drawings (SVG), heat maps and training curves (PNG): produced, well-formed, and showing the structure.</summary>
public sealed class PictureTests : IDisposable
{
    private readonly string _temp = Directory.CreateTempSubdirectory("rnalm-pictures-").FullName;

    public void Dispose() => Directory.Delete(_temp, recursive: true);

    private static readonly byte[] PngSignature = [0x89, (byte)'P', (byte)'N', (byte)'G', 0x0d, 0x0a, 0x1a, 0x0a];

    /// <summary>Width and height from a PNG's IHDR chunk, after checking the signature.</summary>
    internal static (int Width, int Height) PngSize(string path)
    {
        byte[] bytes = File.ReadAllBytes(path);
        Assert.True(bytes.Length > 100 && bytes.AsSpan(0, 8).SequenceEqual(PngSignature), $"{path} is not a PNG file");
        Assert.Equal("IHDR", System.Text.Encoding.ASCII.GetString(bytes, 12, 4));
        Assert.Equal("IEND", System.Text.Encoding.ASCII.GetString(bytes, bytes.Length - 8, 4));
        return (System.Buffers.Binary.BinaryPrimitives.ReadInt32BigEndian(bytes.AsSpan(16)), System.Buffers.Binary.BinaryPrimitives.ReadInt32BigEndian(bytes.AsSpan(20)));
    }

    [Fact]
    public void AStructureDrawingHasEveryBaseEveryPairAndANumberEveryTenNucleotides()
    {
        // A bpRNA structure with a multi-branch loop, and a pseudoknot added on top of it.
        var record = DotBracketReader.Read(Fixtures.Data("structure/bprna_ts0.dbn")).First();
        var pairs = DotBracket.Pairs(record.Structure).ToList();
        // From inside one hairpin loop to inside another: it crosses the pairs closing either hairpin.
        var knot = (I: record.Structure.IndexOf(".............") + 6, J: record.Structure.IndexOf("(...)") + 2);
        pairs.Add(knot);
        string svg = StructureDrawing.Svg(record.Name, record.Sequence, pairs);
        if (Environment.GetEnvironmentVariable("RNALM_KEEP_PICTURES") is { Length: > 0 } keep) File.WriteAllText(Path.Combine(keep, "structure.svg"), svg);

        var document = XDocument.Parse(svg);
        XNamespace ns = "http://www.w3.org/2000/svg";
        Assert.Equal(ns + "svg", document.Root!.Name);
        Assert.Equal(record.Sequence.Length, document.Descendants(ns + "circle").Count());
        Assert.Equal(pairs.Count - 1, document.Descendants(ns + "line").Count(e => (string?)e.Attribute("class") == "pair"));
        Assert.Single(document.Descendants(ns + "path"), e => (string?)e.Attribute("class") == "pseudoknot");
        var numbers = document.Descendants(ns + "text").Where(e => (string?)e.Attribute("class") == "number").Select(e => int.Parse(e.Value)).ToList();
        Assert.Equal(Enumerable.Range(1, record.Sequence.Length / 10).Select(k => 10 * k), numbers);

        // Planar: no two bases of the drawing sit on top of each other.
        var centres = document.Descendants(ns + "circle").Select(c => (X: double.Parse((string)c.Attribute("cx")!), Y: double.Parse((string)c.Attribute("cy")!))).ToList();
        for (int a = 0; a < centres.Count; a++)
        {
            for (int b = a + 1; b < centres.Count; b++)
            {
                double d = Math.Sqrt(Math.Pow(centres[a].X - centres[b].X, 2) + Math.Pow(centres[a].Y - centres[b].Y, 2));
                Assert.True(d > 8, $"bases {a + 1} and {b + 1} overlap ({d:F1} px apart)");
            }
        }
    }

    [Fact]
    public void FoldWritesADrawingAndAHeatMapPerSequence()
    {
        string fasta = Path.Combine(_temp, "in.fasta");
        File.WriteAllText(fasta, ">tar TAR hairpin\nGGUCUCUCUGGUUAGACCAGAUCUGAGCCU\n>odd/name\nGCGGAUUUAGCUCAG\n");
        string pictures = Path.Combine(_temp, "pictures");
        var run = Succeeds("fold", "--checkpoint", Fixtures.Models("ernierna-ss"), "--input", fasta, "--svg", pictures, "--png", pictures);
        Assert.Equal(new[] { "odd_name.contact.png", "odd_name.svg", "tar.contact.png", "tar.svg" }, Directory.GetFiles(pictures).Select(Path.GetFileName).Order());
        var document = XDocument.Parse(File.ReadAllText(Path.Combine(pictures, "tar.svg")));
        Assert.Equal(30, document.Descendants().Count(e => e.Name.LocalName == "circle"));
        var (width, height) = PngSize(Path.Combine(pictures, "tar.contact.png"));
        Assert.True(width >= 500 && height >= 500);

        File.WriteAllText(Path.Combine(_temp, "afile"), "x");
        AssertCleanError(Rnalm("fold", "--checkpoint", Fixtures.Models("ernierna-ss"), "--input", fasta, "--svg", Path.Combine(_temp, "afile")), 2, "--svg", "afile");
        // A picture would replace the input: refused, and the input is intact.
        string inside = Path.Combine(_temp, "inside");
        Directory.CreateDirectory(inside);
        string trap = Path.Combine(inside, "tar.svg");
        File.WriteAllText(trap, ">tar\nGGUCUCUCUGGUUAGACCAGAUCUGAGCCU\n");
        AssertCleanError(Rnalm("fold", "--checkpoint", Fixtures.Models("ernierna-ss"), "--input", trap, "--svg", inside), 2, "input FASTA", "tar.svg");
        Assert.StartsWith(">tar", File.ReadAllText(trap));
    }

    [Fact]
    public void EmbedDrawsAttentionMapsForTheChosenLayers()
    {
        string fasta = Path.Combine(_temp, "a.fasta");
        File.WriteAllText(fasta, ">a\nACGUACGUAGGCUA\n>b\nGGGAAACCC\n");
        string pictures = Path.Combine(_temp, "attention");
        Succeeds("embed", "--checkpoint", Fixtures.Models("splicebert"), "--input", fasta, "--output", Path.Combine(_temp, "a.safetensors"),
            "--attentions", "--layers", "1,-1", "--png", pictures);
        Assert.Equal(new[] { "a.attention.1.png", "a.attention.2.png", "b.attention.1.png", "b.attention.2.png" }, Directory.GetFiles(pictures).Select(Path.GetFileName).Order());
        Assert.All(Directory.GetFiles(pictures), file => PngSize(file));
        AssertCleanError(Rnalm("embed", "--checkpoint", Fixtures.Models("splicebert"), "--input", fasta, "--output", Path.Combine(_temp, "b.safetensors"), "--png", pictures), 2, "--attentions");
    }

    [Fact]
    public void TrainingCurvesAreDrawnFromTheHistoryInTrainerState()
    {
        string state = Path.Combine(_temp, "trainer_state.json");
        var history = new JsonArray();
        for (int step = 1; step <= 50; step++) history.Add(new JsonArray(step, 3.0 / Math.Sqrt(step), 1e-3));
        var evaluations = new JsonArray(new JsonObject { ["step"] = 25, ["loss"] = 0.9, ["accuracy"] = 0.3 }, new JsonObject { ["step"] = 50, ["loss"] = 0.7, ["accuracy"] = 0.35 });
        File.WriteAllText(state, new JsonObject { ["loss_history"] = history, ["evaluations"] = evaluations }.ToJsonString());
        string png = Path.Combine(_temp, "curves.png");
        Charts.TrainingCurves(state, png, "test run");
        Assert.Equal((900, 520), PngSize(png));
    }
}
