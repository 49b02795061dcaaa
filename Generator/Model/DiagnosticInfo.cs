using Microsoft.CodeAnalysis;

namespace RnaLm.Generator.Model;

/// <summary>A diagnostic kept as plain values (descriptor id + location + formatted args) so it can be cached.</summary>
internal sealed record DiagnosticInfo(DiagnosticDescriptor Descriptor, LocationInfo? Location, EquatableArray<string> MessageArgs)
{
    public Diagnostic ToDiagnostic() =>
        Diagnostic.Create(Descriptor, Location?.ToLocation() ?? Microsoft.CodeAnalysis.Location.None, MessageArgs.ToArray<object>());

    public static DiagnosticInfo Create(DiagnosticDescriptor descriptor, LocationInfo? location, params string[] args) =>
        new(descriptor, location, new EquatableArray<string>(args));

    public bool Equals(DiagnosticInfo? other) =>
        other is not null && Descriptor.Id == other.Descriptor.Id && Equals(Location, other.Location) && MessageArgs.Equals(other.MessageArgs);

    public override int GetHashCode() => (Descriptor.Id, Location, MessageArgs).GetHashCode();
}

internal static class EquatableArrayObjectExtensions
{
    public static object[] ToArray<TOut>(this EquatableArray<string> items)
    {
        var result = new object[items.Count];
        for (int i = 0; i < items.Count; i++) result[i] = items[i];
        return result;
    }
}
