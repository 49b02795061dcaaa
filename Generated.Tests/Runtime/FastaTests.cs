using System;
using System.IO;
using System.Linq;
using RnaLm.IO;
using Xunit;

namespace RnaLm.Tests.Runtime;

public sealed class FastaTests
{
    private static FastaRecord[] Parse(string text) => FastaReader.Parse(new StringReader(text), "in.fa").ToArray();

    private static FormatException ParseFails(string text) => Assert.Throws<FormatException>(() => Parse(text));

    [Fact]
    public void ParsesNamesDescriptionsSequencesAndHeaderLines()
    {
        var records = Parse(
            "; a comment\n" +
            "\n" +
            ">seq1 first  record\tdesc\n" +
            "ACGU\n" +
            "acgu<mask>N\n" +
            "\n" +
            "; between lines\n" +
            "A C\n" +
            ">seq2\n" +
            "GGG\n");
        Assert.Equal(2, records.Length);
        Assert.Equal(new FastaRecord("seq1", "first  record\tdesc", "ACGUacgu<mask>NA C", 3), records[0]);
        Assert.Equal(new FastaRecord("seq2", "", "GGG", 9), records[1]);
    }

    [Fact]
    public void RemovesCarriageReturnsAndAcceptsMissingFinalNewline()
    {
        var records = Parse(">a x\r\nAC\r\nGU\r\n>b\rUU");
        Assert.Equal("ACGU", records[0].Sequence);
        Assert.Equal("x", records[0].Description);
        Assert.Equal("UU", records[1].Sequence);
        Assert.Equal(4, records[1].Line);
    }

    [Fact]
    public void NameIsTheFirstWordEvenAfterSpaces()
    {
        var record = Parse(">   name   rest of it  \nA\n").Single();
        Assert.Equal("name", record.Name);
        Assert.Equal("rest of it", record.Description);
    }

    [Fact]
    public void RejectsSequenceBeforeTheFirstHeader()
    {
        var e = ParseFails("\nACGU\n>a\nA\n");
        Assert.StartsWith("in.fa:2:", e.Message);
        Assert.Contains("before the first '>' header", e.Message);
    }

    [Theory]
    [InlineData(">\nACGU\n")]
    [InlineData(">   \nACGU\n")]
    public void RejectsHeaderWithoutName(string text)
    {
        var e = ParseFails(text);
        Assert.StartsWith("in.fa:1:", e.Message);
        Assert.Contains("no record name", e.Message);
    }

    [Fact]
    public void RejectsEmptySequenceInTheMiddle()
    {
        var e = ParseFails(">a\nAC\n>b\n\n>c\nGU\n");
        Assert.StartsWith("in.fa:3:", e.Message);
        Assert.Contains("'b' has an empty sequence", e.Message);
    }

    [Fact]
    public void RejectsEmptySequenceAtTheEnd()
    {
        var e = ParseFails(">a\nAC\n>b\n");
        Assert.StartsWith("in.fa:3:", e.Message);
        Assert.Contains("'b' has an empty sequence", e.Message);
    }

    [Fact]
    public void RejectsDuplicateNamesWithBothLines()
    {
        var e = ParseFails(">a one\nAC\n>b\nGG\n>a two\nUU\n");
        Assert.StartsWith("in.fa:5:", e.Message);
        Assert.Contains("duplicate record name 'a'", e.Message);
        Assert.Contains("line 1", e.Message);
    }

    [Fact]
    public void ReadsTheNrcTestSet()
    {
        var records = FastaReader.Read(Fixtures.Data("ncrna/nrc_test.fasta")).ToList();
        Assert.Equal(2600, records.Count);
        Assert.Equal("RF00001_AGFK01083378_1_200-82", records[0].Name);
        Assert.Equal("5S_rRNA", records[0].Description);
        Assert.Equal(1, records[0].Line);
        Assert.Equal(119, records[0].Sequence.Length); // header range 200-82; the file has CRLF line ends
        Assert.StartsWith("GGATGCGATCATGTCTGCACTAACACACCGGATCCCATCAGAACTCCGAAGTTAAGCGTGCTTGGG", records[0].Sequence);
        Assert.All(records, r => Assert.False(r.Sequence.Contains('\n') || r.Sequence.Contains('\r'), r.Name));
        Assert.All(records, r => Assert.False(r.Description.Contains('\r'), r.Name));
    }

    [Fact]
    public void ReadThrowsForAMissingFileImmediately()
    {
        string missing = Path.Combine(Path.GetTempPath(), "rnalm-no-such-" + Guid.NewGuid().ToString("N") + ".fa");
        var e = Assert.Throws<FileNotFoundException>(() => FastaReader.Read(missing));
        Assert.Contains(missing, e.Message);
    }

    [Fact]
    public void ErrorsFromFilesNameThePath()
    {
        string path = Path.Combine(Path.GetTempPath(), "rnalm-fasta-" + Guid.NewGuid().ToString("N") + ".fa");
        File.WriteAllText(path, ">a\nAC\n>a\nGU\n");
        try
        {
            var e = Assert.Throws<FormatException>(() => FastaReader.Read(path).ToList());
            Assert.StartsWith(path + ":3:", e.Message);
        }
        finally
        {
            File.Delete(path);
        }
    }

    // ---- dot-bracket -----------------------------------------------------------------------------------------

    private static DotBracketRecord[] ParseDbn(string text) => DotBracketReader.Parse(new StringReader(text), "s.dbn").ToArray();

    [Fact]
    public void ParsesDotBracketRecords()
    {
        var records = ParseDbn(">r1\nGGGAAACCC\n(((...)))\n\n>r2 extra\nACGU\n.[].\n");
        Assert.Equal(new DotBracketRecord("r1", "GGGAAACCC", "(((...)))", 1), records[0]);
        Assert.Equal(new DotBracketRecord("r2", "ACGU", ".[].", 5), records[1]);
    }

    [Fact]
    public void RejectsStructureOfTheWrongLength()
    {
        var e = Assert.Throws<FormatException>(() => ParseDbn(">r1\nGGGAAACCC\n(((...)))\n>r2\nACGU\n..\n"));
        Assert.StartsWith("s.dbn:6:", e.Message);
        Assert.Contains("'r2'", e.Message);
        Assert.Contains("length 2", e.Message);
        Assert.Contains("length 4", e.Message);
    }

    [Fact]
    public void RejectsTruncatedRecords()
    {
        var e = Assert.Throws<FormatException>(() => ParseDbn(">r1\nACGU\n"));
        Assert.StartsWith("s.dbn:2:", e.Message);
        Assert.Contains("structure", e.Message);

        e = Assert.Throws<FormatException>(() => ParseDbn(">r1\n>r2\nACGU\n....\n"));
        Assert.StartsWith("s.dbn:2:", e.Message);
        Assert.Contains("no sequence line", e.Message);
    }

    [Fact]
    public void RejectsTextWhereAHeaderIsExpected()
    {
        var e = Assert.Throws<FormatException>(() => ParseDbn(">r1\nAC\n..\nGG\n"));
        Assert.StartsWith("s.dbn:4:", e.Message);
    }

    [Fact]
    public void RejectsDuplicateDotBracketNames()
    {
        var e = Assert.Throws<FormatException>(() => ParseDbn(">r\nAC\n..\n>r\nGG\n()\n"));
        Assert.StartsWith("s.dbn:4:", e.Message);
        Assert.Contains("line 1", e.Message);
    }

    [Theory]
    [InlineData("structure/bprna_ts0.dbn", 1305, "bpRNA_CRW_15573", 120)]
    [InlineData("structure/bprna_vl0.dbn", 1300, null, 0)]
    [InlineData("structure/archiveii.dbn", 3966, "16s_A.fulgidus", 0)]
    [InlineData("pretraining/bprna_tr0.dbn", 10814, null, 0)]
    public void ReadsTheSharedStructureFiles(string file, int count, string? firstName, int firstLength)
    {
        var records = DotBracketReader.Read(Fixtures.Data(file)).ToList();
        Assert.Equal(count, records.Count);
        Assert.All(records, r => Assert.Equal(r.Sequence.Length, r.Structure.Length));
        Assert.Equal(1, records[0].Line);
        Assert.Equal(4, records[1].Line);
        if (firstName is not null)
        {
            Assert.Equal(firstName, records[0].Name);
        }
        if (firstLength > 0)
        {
            Assert.Equal(firstLength, records[0].Sequence.Length);
        }
    }
}
