using System.Text.Json;
using LoopFulfil.Core.Shadow;
using LoopFulfil.Sandbox.Fulfil;
using Microsoft.Extensions.DependencyInjection;

namespace LoopFulfil.Tests.Shadow;

/// <summary>What the shadow tests share: the whole Fulfil simulator as text, and the plan as shadow mode recorded it.</summary>
internal static class ShadowTestKit
{
    /// <summary>Every record of every model, fields in name order: any create, write or state change shows.</summary>
    public static string Dump(FulfilSandboxState state) =>
        string.Join('\n', state.Models.SelectMany(m => state.All(m).Select(r => $"{m}/{r.Id} {JsonSerializer.Serialize(new SortedDictionary<string, object?>(r.Fields.ToDictionary(), StringComparer.Ordinal))}")));

    public static async Task<List<PlannedWrite>> PlanAsync(IServiceProvider services)
    {
        var plan = new List<PlannedWrite>();
        await foreach (var w in services.GetRequiredService<ShadowPlanStore>().ListAsync(CancellationToken.None))
        {
            plan.Add(w);
        }

        return plan;
    }
}
