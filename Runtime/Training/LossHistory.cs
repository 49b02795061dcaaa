using System;
using System.Collections.Generic;
using System.Text.Json.Nodes;

namespace RnaLm.Training;

/// <summary>
/// The training loss over a run, kept in <c>trainer_state.json</c> as <c>loss_history</c>: at most about 500 points,
/// each the mean loss of the steps since the previous point with its last step and learning rate, so a run of any
/// length keeps a small state file. It survives <c>--resume</c>.
/// </summary>
public sealed class LossHistory
{
    private readonly long _interval;
    private readonly List<(long Step, double Loss, double LearningRate)> _points = [];
    private double _sum;
    private int _count;

    /// <param name="totalSteps">Steps of the whole run.</param>
    public LossHistory(long totalSteps) => _interval = Math.Max(1, totalSteps / 500);

    /// <summary>The recorded points: last step of the bucket, mean loss, learning rate at that step.</summary>
    public IReadOnlyList<(long Step, double Loss, double LearningRate)> Points => _points;

    /// <summary>Records the loss of <paramref name="step"/> (1-based); a point is kept every interval and at <paramref name="flush"/>.</summary>
    public void Add(long step, double loss, double learningRate, bool flush = false)
    {
        if (double.IsFinite(loss))
        {
            _sum += loss;
            _count++;
        }
        if ((step % _interval == 0 || flush) && _count > 0)
        {
            _points.Add((step, _sum / _count, learningRate));
            _sum = 0;
            _count = 0;
        }
    }

    public JsonArray ToJson()
    {
        var array = new JsonArray();
        foreach (var (step, loss, rate) in _points) array.Add(new JsonArray(step, Math.Round(loss, 6), rate));
        return array;
    }

    /// <summary>Restores the points of a resumed run (those after <paramref name="step"/> cannot exist and are dropped).</summary>
    public void Load(JsonArray? array, long step)
    {
        _points.Clear();
        if (array is null) return;
        foreach (var item in array)
        {
            if (item is JsonArray { Count: 3 } point && point[0]!.GetValue<long>() <= step)
            {
                _points.Add((point[0]!.GetValue<long>(), point[1]!.GetValue<double>(), point[2]!.GetValue<double>()));
            }
        }
    }
}
