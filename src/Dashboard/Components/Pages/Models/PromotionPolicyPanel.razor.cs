using Dashboard.Components.Pages.Promotions;
using Dashboard.Errors;
using Dashboard.Governance;
using Dashboard.Security;
using Microsoft.AspNetCore.Components;

namespace Dashboard.Components.Pages.Models;

/// <summary>
/// A model's effective promotion policy (<see cref="PromotionService.GetPolicyAsync"/>) and, for callers with MANAGE on
/// the model, its editor: the whole policy is saved at once (<see cref="PromotionService.SetPolicyAsync"/>, PUT
/// semantics), and the service's refusal (a bad gate expression, a count below 1) is shown in the panel.
/// </summary>
public partial class PromotionPolicyPanel
{
    [Parameter, EditorRequired] public string ModelName { get; set; } = "";

    [Inject] private PromotionService Promotions { get; set; } = default!;
    [Inject] private Auth.PageAccess Access { get; set; } = default!;

    private PolicyView? _policy;
    private bool _canManage;
    private bool _editing;
    private bool _busy;
    private string? _error;
    private string? _loadedFor;

    // The form: lists as comma-separated text, gates as editable rows.
    private readonly HashSet<string> _stages = new(StringComparer.Ordinal);
    private string? _aliases;
    private int _required = 1;
    private int? _expiry;
    private bool _approverRole = true;
    private string? _groups;
    private string _directChange = DirectChangeMode.Refuse;
    private List<GateRow> _gates = [];

    /// <summary>One gate as the form edits it.</summary>
    private sealed class GateRow
    {
        public string Kind { get; set; } = GateKind.Metric;
        public string? Name { get; set; }
        public string? Expression { get; set; }
        public string? Metric { get; set; }
        public int? K { get; set; }
        public bool HigherIsBetter { get; set; } = true;
        public double? Margin { get; set; }
        public string? Targets { get; set; }

        public static GateRow From(GateSpec g) => new()
        {
            Kind = g.Kind, Name = g.Name, Expression = g.Expression, Metric = g.Metric, K = g.K, HigherIsBetter = g.HigherIsBetter,
            Margin = g.Margin, Targets = string.Join(", ", g.Targets),
        };

        public GateSpec ToSpec() => new()
        {
            Kind = Kind,
            Name = string.IsNullOrWhiteSpace(Name) ? null : Name.Trim(),
            Expression = Kind is GateKind.Metric or GateKind.Tag ? Expression : null,
            Metric = Kind is GateKind.TopK or GateKind.Compare ? Metric : null,
            K = Kind == GateKind.TopK ? K : null,
            HigherIsBetter = HigherIsBetter,
            Margin = Kind == GateKind.Compare ? Margin : null,
            Targets = Split(Targets),
        };
    }

    protected override async Task OnParametersSetAsync()
    {
        if (_loadedFor == ModelName)
        {
            return;
        }
        _loadedFor = ModelName;
        _editing = false;
        await LoadAsync();
    }

    private async Task LoadAsync()
    {
        _error = null;
        try
        {
            _policy = await Promotions.GetPolicyAsync(ModelName, await Access.CallerAsync());
            _canManage = await Access.RegisteredModelAsync(ModelName) >= AccessLevel.Manage;
        }
        catch (MlflowException e)
        {
            _policy = null;
            _error = e.Message;
        }
    }

    private static string Approvers(PolicyView p)
    {
        var who = new List<string>();
        if (p.ApproverRole)
        {
            who.Add("Approvers and Admins");
        }
        if (p.ApproverGroups.Count > 0)
        {
            who.Add("the groups " + string.Join(", ", p.ApproverGroups));
        }
        return who.Count == 0 ? "Admins" : string.Join(" or ", who);
    }

    private static List<string> Split(string? text) =>
        string.IsNullOrWhiteSpace(text) ? [] : [.. text.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)];

    private void StartEditing()
    {
        if (_policy is not { } p)
        {
            return;
        }
        _stages.Clear();
        _stages.UnionWith(p.ProtectedStages);
        _aliases = string.Join(", ", p.ProtectedAliases);
        _required = p.RequiredApprovals;
        _expiry = p.ExpiryHours;
        _approverRole = p.ApproverRole;
        _groups = string.Join(", ", p.ApproverGroups);
        _directChange = p.DirectChange;
        _gates = [.. p.Gates.Select(GateRow.From)];
        _error = null;
        _editing = true;
    }

    private void ToggleStage(string stage, bool on)
    {
        if (on)
        {
            _stages.Add(stage);
        }
        else
        {
            _stages.Remove(stage);
        }
    }

    private void AddGate() => _gates.Add(new GateRow());

    private async Task SaveAsync()
    {
        _busy = true;
        _error = null;
        try
        {
            var input = new PolicyInput(
                [.. ModelVersionPage.TargetStages.Where(_stages.Contains)], Split(_aliases), _required, _approverRole, Split(_groups), _expiry,
                _directChange, [.. _gates.Select(g => g.ToSpec())]);
            _policy = await Promotions.SetPolicyAsync(ModelName, input, await Access.CallerAsync());
            _editing = false;
        }
        catch (MlflowException e)
        {
            _error = e.Message;
        }
        finally
        {
            _busy = false;
        }
    }

    private async Task RevertAsync()
    {
        _busy = true;
        _error = null;
        try
        {
            await Promotions.DeletePolicyAsync(ModelName, await Access.CallerAsync());
            _editing = false;
            await LoadAsync();
        }
        catch (MlflowException e)
        {
            _error = e.Message;
        }
        finally
        {
            _busy = false;
        }
    }
}
