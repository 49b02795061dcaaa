using System;

namespace RnaLm.Training;

/// <summary>How the learning rate falls after warm-up.</summary>
public enum DecayKind
{
    Linear,
    Cosine,
}

/// <summary>
/// Linear warm-up from 0 to <see cref="PeakRate"/> over <see cref="WarmupSteps"/> optimizer steps, then a linear or
/// cosine decay to <see cref="MinimumRate"/> at <see cref="TotalSteps"/>; constant at the minimum afterwards.
/// </summary>
public sealed record LearningRateSchedule(double PeakRate, double MinimumRate, long WarmupSteps, long TotalSteps, DecayKind Decay = DecayKind.Linear)
{
    /// <summary>The rate for optimizer step <paramref name="step"/> (0-based: the first update uses step 0).</summary>
    public double RateAt(long step)
    {
        if (step < 0) throw new ArgumentOutOfRangeException(nameof(step));
        if (WarmupSteps > 0 && step < WarmupSteps) return PeakRate * (step + 1) / WarmupSteps;
        long decaySteps = TotalSteps - WarmupSteps;
        if (decaySteps <= 0) return PeakRate;
        double progress = Math.Min(1.0, (double)(step - WarmupSteps) / decaySteps);
        double factor = Decay == DecayKind.Cosine ? 0.5 * (1 + Math.Cos(Math.PI * progress)) : 1 - progress;
        return MinimumRate + (PeakRate - MinimumRate) * factor;
    }
}
