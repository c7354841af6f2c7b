using System.Globalization;
using Dashboard.Components.Shared;
using Dashboard.Errors;
using Dashboard.Governance;
using Microsoft.AspNetCore.Components;
using MudBlazor;

namespace Dashboard.Components.Pages.Promotions;

/// <summary>
/// One promotion request: its state, target, requester and comment; the evidence (the candidate's metrics and params
/// beside the current holder's, and the gates); the reviews and the discussion; and the actions the caller may take
/// now (<see cref="PromotionRequestView"/>'s flags): approve or reject with a comment (an Admin's override reason when
/// gates fail), cancel for the requester. A refusal of the service is shown beside the actions.
/// </summary>
public partial class PromotionRequestPage
{
    [Parameter] public long Id { get; set; }

    [Inject] private PromotionService Promotions { get; set; } = default!;
    [Inject] private Auth.PageAccess Access { get; set; } = default!;

    private PromotionRequestView? _view;
    private PromotionEvidence? _evidence;
    private string? _notFound;
    private string? _evidenceError;
    private string? _actionError;
    private string? _commentError;
    private string? _reviewComment;
    private string? _overrideReason;
    private string? _newComment;
    private bool _busy;
    private List<BreadcrumbItem> _crumbs = [];

    protected override async Task OnParametersSetAsync()
    {
        _crumbs = [new("My requests", "/promotions"), new($"#{Id.ToString(CultureInfo.InvariantCulture)}", null, disabled: true)];
        _notFound = null;
        try
        {
            _view = await Promotions.GetRequestAsync(Id, await Access.CallerAsync());
        }
        catch (MlflowException e) when (e.ErrorCode is ErrorCode.RESOURCE_DOES_NOT_EXIST or ErrorCode.PERMISSION_DENIED
            or ErrorCode.INVALID_PARAMETER_VALUE)
        {
            _view = null;
            _notFound = e.Message;
            return;
        }
        await LoadEvidenceAsync();
    }

    private async Task LoadEvidenceAsync()
    {
        _evidenceError = null;
        try
        {
            _evidence = await Promotions.GetEvidenceAsync(Id, await Access.CallerAsync());
        }
        catch (MlflowException e)
        {
            _evidence = null;
            _evidenceError = e.Message;
        }
    }

    private async Task ReviewAsync(string decision) =>
        await ActAsync(async caller => await Promotions.ReviewAsync(Id, decision, _reviewComment,
            string.IsNullOrWhiteSpace(_overrideReason) ? null : _overrideReason, caller));

    private async Task CancelAsync() => await ActAsync(async caller => await Promotions.CancelAsync(Id, _reviewComment, caller));

    /// <summary>Runs an action; shows the service's refusal, or the request as it is now (and its evidence).</summary>
    private async Task ActAsync(Func<Security.Caller, Task<PromotionRequestView>> action)
    {
        _busy = true;
        _actionError = null;
        try
        {
            _view = await action(await Access.CallerAsync());
            _reviewComment = _overrideReason = null;
            await LoadEvidenceAsync();
        }
        catch (MlflowException e)
        {
            _actionError = e.Message;
        }
        finally
        {
            _busy = false;
        }
    }

    private async Task CommentAsync()
    {
        _busy = true;
        _commentError = null;
        try
        {
            _view = await Promotions.CommentAsync(Id, _newComment, await Access.CallerAsync());
            _newComment = null;
        }
        catch (MlflowException e)
        {
            _commentError = e.Message;
        }
        finally
        {
            _busy = false;
        }
    }

    /// <summary>One metric of the evidence: both values, the difference, and whether it is better (higher for most metrics, lower for losses and errors).</summary>
    private sealed record MetricRow(string Key, double? Candidate, double? Holder, string Difference, string Better, string Style);

    private sealed record ParamRow(string Key, string? Candidate, string? Holder, bool Changed);

    /// <summary>
    /// Whether lower values are better for a metric: a gate on it says so (<see cref="GateSpec.HigherIsBetter"/>); else
    /// names of losses and errors (loss, error, rmse, mae, mse) are lower-is-better, everything else higher-is-better.
    /// </summary>
    private bool LowerIsBetter(string key)
    {
        if (_view?.Gates.FirstOrDefault(g => string.Equals(g.Gate.Metric, key, StringComparison.Ordinal)) is { } gate)
        {
            return !gate.Gate.HigherIsBetter;
        }
        var k = key.ToLowerInvariant();
        return k.Contains("loss", StringComparison.Ordinal) || k.Contains("error", StringComparison.Ordinal)
            || k.EndsWith("rmse", StringComparison.Ordinal) || k.EndsWith("mae", StringComparison.Ordinal) || k.EndsWith("mse", StringComparison.Ordinal);
    }

    private IEnumerable<MetricRow> MetricRows()
    {
        if (_evidence is null)
        {
            yield break;
        }
        var holder = _evidence.Holder?.Metrics ?? new Dictionary<string, double>();
        foreach (var key in _evidence.Candidate.Metrics.Keys.Union(holder.Keys).Order(StringComparer.Ordinal))
        {
            double? c = _evidence.Candidate.Metrics.TryGetValue(key, out var cv) ? cv : null;
            double? h = holder.TryGetValue(key, out var hv) ? hv : null;
            if (c is not { } cand || h is not { } hold || double.IsNaN(cand) || double.IsNaN(hold))
            {
                yield return new MetricRow(key, c, h, "", "n/a", "");
                continue;
            }
            var diff = cand - hold;
            var better = diff == 0 ? "same" : (diff > 0) != LowerIsBetter(key) ? "better" : "worse";
            var style = better switch
            {
                "better" => "color: var(--mud-palette-success)",
                "worse" => "color: var(--mud-palette-error)",
                _ => "",
            };
            var text = (diff > 0 ? "+" : "") + Format.Number(diff);
            yield return new MetricRow(key, c, h, text, better, style);
        }
    }

    private IEnumerable<ParamRow> ParamRows()
    {
        if (_evidence is null)
        {
            yield break;
        }
        var holder = _evidence.Holder?.Params;
        foreach (var key in _evidence.Candidate.Params.Keys.Union(holder?.Keys ?? []).Order(StringComparer.Ordinal))
        {
            var c = _evidence.Candidate.Params.GetValueOrDefault(key);
            var h = holder?.GetValueOrDefault(key);
            yield return new ParamRow(key, c, h, holder is not null && !string.Equals(c, h, StringComparison.Ordinal));
        }
    }
}
