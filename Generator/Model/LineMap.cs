using System;
using Microsoft.CodeAnalysis.Text;

namespace RnaLm.Generator.Model;

/// <summary>
/// The line starts of a source text, so a later pipeline step can turn a <see cref="TextSpan"/> into the line and
/// column a build prints without holding the <see cref="SourceText"/> (which must not flow through the pipeline).
/// Lines are exactly those of <see cref="SourceText.Lines"/>.
/// </summary>
internal sealed class LineMap : IEquatable<LineMap>
{
    private readonly EquatableArray<int> _starts;

    private LineMap(EquatableArray<int> starts, int length)
    {
        _starts = starts;
        Length = length;
    }

    /// <summary>Characters in the text.</summary>
    public int Length { get; }

    public static LineMap From(SourceText text)
    {
        var starts = new int[text.Lines.Count];
        for (int i = 0; i < starts.Length; i++) starts[i] = text.Lines[i].Start;
        return new LineMap(new EquatableArray<int>(starts), text.Length);
    }

    public LinePositionSpan GetLinePositionSpan(TextSpan span) => new(Position(span.Start), Position(span.End));

    private LinePosition Position(int position)
    {
        position = Math.Max(0, Math.Min(position, Length));
        int low = 0, high = _starts.Count - 1;
        while (low < high)
        {
            int mid = (low + high + 1) / 2;
            if (_starts[mid] <= position) low = mid;
            else high = mid - 1;
        }
        int start = _starts.Count == 0 ? 0 : _starts[low];
        return new LinePosition(low, position - start);
    }

    public bool Equals(LineMap? other) =>
        ReferenceEquals(this, other) || (other is not null && Length == other.Length && _starts.Equals(other._starts));

    public override bool Equals(object? obj) => obj is LineMap other && Equals(other);

    public override int GetHashCode() => (Length * 397) ^ _starts.Count;
}
