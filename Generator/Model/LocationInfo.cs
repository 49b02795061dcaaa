using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.Text;

namespace RnaLm.Generator.Model;

/// <summary>An equatable stand-in for <see cref="Location"/> inside a spec file (path, span, line span).</summary>
internal sealed record LocationInfo(string FilePath, TextSpan Span, LinePositionSpan LineSpan)
{
    public Location ToLocation() => Location.Create(FilePath, Span, LineSpan);

    public static LocationInfo Create(string path, SourceText text, TextSpan span) =>
        new(path, span, text.Lines.GetLinePositionSpan(span));

    public static LocationInfo Create(string path, LineMap lines, TextSpan span) =>
        new(path, span, lines.GetLinePositionSpan(span));
}
