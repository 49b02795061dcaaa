using System;
using System.Globalization;
using TorchSharp;
using Xunit.Sdk;
using static TorchSharp.torch;

namespace RnaLm.Tests.Parity;

/// <summary>Element-wise comparison with the numpy.isclose rule <c>|a - e| ≤ atol + rtol·|e|</c>; equal infinities match.</summary>
public static class TensorAssert
{
    public static void Close(Tensor expected, Tensor actual, double atol, double rtol, string what)
    {
        if (!expected.shape.AsSpan().SequenceEqual(actual.shape))
        {
            throw new XunitException($"{what}: shape [{string.Join(", ", actual.shape)}], expected [{string.Join(", ", expected.shape)}]");
        }
        using var scope = NewDisposeScope();
        var e = expected.to_type(ScalarType.Float64);
        var a = actual.to_type(ScalarType.Float64);
        var bothInfinite = e.isinf().logical_and(a.isinf()).logical_and(e.eq(a));
        var diff = (a - e).abs().nan_to_num(0, 0, 0).masked_fill(bothInfinite, 0);
        var bad = diff.gt(atol + rtol * e.abs().nan_to_num(0, 0, 0)).logical_or(a.isnan().logical_xor(e.isnan()));
        bad = bad.logical_or(e.isinf().logical_xor(a.isinf()));
        long count = bad.sum().item<long>();
        if (count == 0) return;
        var index = bad.flatten().nonzero()[0].item<long>();
        var flatE = e.flatten()[index].item<double>();
        var flatA = a.flatten()[index].item<double>();
        double max = diff.masked_fill(bothInfinite, 0).max().item<double>();
        throw new XunitException(string.Format(CultureInfo.InvariantCulture,
            "{0}: {1} of {2} elements differ (atol {3}, rtol {4}); first at flat index {5}: expected {6:R}, actual {7:R}; max |diff| {8:R}",
            what, count, e.numel(), atol, rtol, index, flatE, flatA, max));
    }
}
