using System;
using System.Collections.Generic;
using System.Linq;

namespace RnaLm.Training;

/// <summary>Classification metrics from true and predicted class indices.</summary>
public sealed class ClassificationMetrics
{
    private readonly long[,] _confusion;

    /// <param name="classes">Number of classes (indices 0 .. classes − 1).</param>
    public ClassificationMetrics(int classes)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(classes, 1);
        Classes = classes;
        _confusion = new long[classes, classes];
    }

    public int Classes { get; }

    /// <summary>Number of (true, predicted) pairs added.</summary>
    public long Count { get; private set; }

    /// <summary>How often class <paramref name="truth"/> was predicted as <paramref name="predicted"/>.</summary>
    public long this[int truth, int predicted] => _confusion[truth, predicted];

    public void Add(int truth, int predicted)
    {
        if ((uint)truth >= (uint)Classes) throw new ArgumentOutOfRangeException(nameof(truth), truth, $"Class index outside 0..{Classes - 1}.");
        if ((uint)predicted >= (uint)Classes) throw new ArgumentOutOfRangeException(nameof(predicted), predicted, $"Class index outside 0..{Classes - 1}.");
        _confusion[truth, predicted]++;
        Count++;
    }

    public static ClassificationMetrics From(IReadOnlyList<int> truth, IReadOnlyList<int> predicted, int classes)
    {
        if (truth.Count != predicted.Count) throw new ArgumentException($"{truth.Count} true labels but {predicted.Count} predictions.");
        var metrics = new ClassificationMetrics(classes);
        for (int i = 0; i < truth.Count; i++) metrics.Add(truth[i], predicted[i]);
        return metrics;
    }

    private long Correct => Enumerable.Range(0, Classes).Sum(k => _confusion[k, k]);

    private long TrueCount(int k) => Enumerable.Range(0, Classes).Sum(j => _confusion[k, j]);

    private long PredictedCount(int k) => Enumerable.Range(0, Classes).Sum(j => _confusion[j, k]);

    /// <summary>Fraction of correct predictions (NaN when empty).</summary>
    public double Accuracy => Count == 0 ? double.NaN : (double)Correct / Count;

    /// <summary>F1 of one class (0 when it has neither true nor predicted members... or no true positives).</summary>
    public double F1(int k)
    {
        long tp = _confusion[k, k];
        long denominator = TrueCount(k) + PredictedCount(k);
        return denominator == 0 ? 0 : 2.0 * tp / denominator;
    }

    /// <summary>
    /// Unweighted mean of the per-class F1 over the classes that occur among the true labels or the predictions
    /// (scikit-learn's <c>f1_score(average="macro")</c>, with 0 for an undefined F1).
    /// </summary>
    public double MacroF1
    {
        get
        {
            var present = Enumerable.Range(0, Classes).Where(k => TrueCount(k) + PredictedCount(k) > 0).ToList();
            return present.Count == 0 ? double.NaN : present.Average(F1);
        }
    }

    /// <summary>
    /// Matthews correlation coefficient for K classes (Gorodkin's R_K, as scikit-learn computes it):
    /// (c·s − Σ p_k t_k) / √((s² − Σ p_k²)(s² − Σ t_k²)), with c correct predictions, s samples, t_k true and p_k
    /// predicted counts of class k; 0 when a factor of the denominator is 0. For two classes it is the usual MCC.
    /// </summary>
    public double Mcc
    {
        get
        {
            if (Count == 0) return double.NaN;
            double s = Count, c = Correct;
            double pt = 0, pp = 0, tt = 0;
            for (int k = 0; k < Classes; k++)
            {
                double p = PredictedCount(k), t = TrueCount(k);
                pt += p * t;
                pp += p * p;
                tt += t * t;
            }
            double denominator = (s * s - pp) * (s * s - tt);
            return denominator <= 0 ? 0 : (c * s - pt) / Math.Sqrt(denominator);
        }
    }

    /// <summary>Precision of one class (0 when nothing was predicted as it).</summary>
    public double Precision(int k)
    {
        long predicted = PredictedCount(k);
        return predicted == 0 ? 0 : (double)_confusion[k, k] / predicted;
    }

    /// <summary>Recall of one class (0 when it has no true members).</summary>
    public double Recall(int k)
    {
        long truth = TrueCount(k);
        return truth == 0 ? 0 : (double)_confusion[k, k] / truth;
    }
}
