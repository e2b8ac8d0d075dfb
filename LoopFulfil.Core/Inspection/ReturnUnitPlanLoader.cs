using LoopFulfil.Core.Loop.Json;
using LoopFulfil.Core.Loop.Models;
using LoopFulfil.Core.Outcomes;
using LoopFulfil.Core.Returns;
using Microsoft.Extensions.Options;

namespace LoopFulfil.Core.Inspection;

/// <summary>Builds the <see cref="ReturnUnitPlan"/> of a pass once and shares it between receipt and restock.</summary>
public sealed class ReturnUnitPlanLoader
{
    private readonly IOptionsMonitor<InspectionOptions> _options;

    public ReturnUnitPlanLoader(IOptionsMonitor<InspectionOptions> options) => _options = options;

    public async Task<ReturnUnitPlan> LoadAsync(ReturnContext context, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(context);
        if (context.Items.TryGetValue(OutcomeItems.Plan, out var cached) && cached is ReturnUnitPlan plan)
        {
            return plan;
        }

        var inspections = await InspectionService.ReadAsync(context.Ledger, context.ReturnId, cancellationToken).ConfigureAwait(false);
        var restocks = await context.Ledger.GetEventsAsync(context.ReturnId, ReturnTriggers.RestockRequested, cancellationToken).ConfigureAwait(false);
        var labels = new List<string?>();
        foreach (var trigger in (string[])[ReturnTriggers.LabelCreated, ReturnTriggers.LabelUpdated])
        {
            var events = await context.Ledger.GetEventsAsync(context.ReturnId, trigger, cancellationToken).ConfigureAwait(false);
            labels.AddRange(events.Select(e => LoopJson.Deserialize<LoopLabelEvent>(e.Body).LabelStatus));
        }

        plan = ReturnUnitPlan.Build(context.Return, context.State, inspections, labels, restocks.Count > 0, _options.CurrentValue);
        context.Items[OutcomeItems.Plan] = plan;
        return plan;
    }
}
