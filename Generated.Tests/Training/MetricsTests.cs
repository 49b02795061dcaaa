using System;
using RnaLm.Training;
using Xunit;

namespace RnaLm.Tests.Training;

/// <summary>Accuracy, macro-F1 and (multiclass) MCC on hand-computed values.</summary>
public sealed class MetricsTests
{
    [Fact]
    public void ScikitLearnsMacroF1Example()
    {
        // sklearn.metrics.f1_score([0, 1, 2, 0, 1, 2], [0, 2, 1, 0, 0, 1], average="macro") == 0.2666…
        var m = ClassificationMetrics.From(new[] { 0, 1, 2, 0, 1, 2 }, new[] { 0, 2, 1, 0, 0, 1 }, 3);
        Assert.Equal(1.0 / 3, m.Accuracy, 12);
        Assert.Equal(0.8 / 3, m.MacroF1, 12);
        // c·s − Σ p_k t_k = 2·6 − (3·2 + 1·2 + 2·2) = 0.
        Assert.Equal(0.0, m.Mcc, 12);
    }

    [Fact]
    public void BinaryMccIsTheUsualCoefficient()
    {
        // sklearn.metrics.matthews_corrcoef([+1, +1, +1, -1], [+1, -1, +1, +1]) == -0.333…
        var m = ClassificationMetrics.From(new[] { 1, 1, 1, 0 }, new[] { 1, 0, 1, 1 }, 2);
        Assert.Equal(-1.0 / 3, m.Mcc, 12);
        // tp 2, fp 1, fn 1, tn 0: (2·0 − 1·1) / √(3·3·1·1) = −1/3 as well.
        Assert.Equal(2.0 / 3, m.Precision(1), 12);
        Assert.Equal(2.0 / 3, m.Recall(1), 12);
        Assert.Equal(2.0 / 3, m.F1(1), 12);
    }

    [Fact]
    public void MulticlassMccAndMacroF1()
    {
        int[] truth = { 0, 0, 0, 1, 1, 2, 2, 2, 2 };
        int[] predicted = { 0, 0, 1, 1, 2, 2, 2, 2, 0 };
        // A fourth class that never occurs does not count in the macro average.
        var m = ClassificationMetrics.From(truth, predicted, 4);
        Assert.Equal(6.0 / 9, m.Accuracy, 12);
        // Per class F1: 2·2/(3+3), 2·1/(2+2), 2·3/(4+4).
        Assert.Equal((4.0 / 6 + 0.5 + 0.75) / 3, m.MacroF1, 12);
        // s = 9, c = 6, t = p = (3, 2, 4): (54 − 29) / √((81 − 29)(81 − 29)) = 25/52.
        Assert.Equal(25.0 / 52, m.Mcc, 12);
        Assert.Equal(1, m[1, 2]); // the second 1 was predicted as 2
        Assert.Equal(9, m.Count);
    }

    [Fact]
    public void PerfectAndConstantPredictions()
    {
        var perfect = ClassificationMetrics.From(new[] { 0, 1, 2, 2 }, new[] { 0, 1, 2, 2 }, 3);
        Assert.Equal(1.0, perfect.Accuracy);
        Assert.Equal(1.0, perfect.MacroF1, 12);
        Assert.Equal(1.0, perfect.Mcc, 12);
        var constant = ClassificationMetrics.From(new[] { 0, 1, 2, 2 }, new[] { 2, 2, 2, 2 }, 3);
        Assert.Equal(0.5, constant.Accuracy);
        Assert.Equal(0.0, constant.Mcc); // undefined (a zero factor): reported as 0, like scikit-learn
        Assert.Equal((0 + 0 + 2.0 * 2 / 6) / 3, constant.MacroF1, 12);
        Assert.True(double.IsNaN(new ClassificationMetrics(2).Accuracy));
        Assert.Throws<ArgumentOutOfRangeException>(() => constant.Add(3, 0));
    }
}
