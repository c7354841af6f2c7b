namespace Dashboard.Tracking;

/// <summary>Picks which points of a long series to send so that charts stay fast.</summary>
public static class Downsample
{
    /// <summary>
    /// At most <paramref name="budget"/> of the sorted distinct <paramref name="steps"/>, spread evenly,
    /// always including the first and the last.
    /// </summary>
    public static List<long> EvenSteps(IReadOnlyList<long> steps, int budget)
    {
        if (steps.Count <= budget)
        {
            return [.. steps];
        }
        if (budget == 1)
        {
            return [steps[^1]];
        }
        var chosen = new List<long>(budget);
        var last = -1;
        for (var i = 0; i < budget; i++)
        {
            var index = (int)Math.Round(i * (steps.Count - 1) / (double)(budget - 1), MidpointRounding.AwayFromZero);
            if (index != last)
            {
                chosen.Add(steps[index]);
                last = index;
            }
        }
        return chosen;
    }
}
