using System.Globalization;
using System.Text.Json.Nodes;
using LoopFulfil.Tests.Builders;

namespace LoopFulfil.Tests.Infrastructure;

/// <summary>
/// One Loop return of the integration tests, written against the Fulfil demo sales, with stable line ids so every
/// webhook of it carries the same lines; <see cref="Configure"/> adds lines and money with <see cref="LoopReturnBuilder"/>.
/// </summary>
internal abstract class LoopTestReturn
{
    public static readonly DateTimeOffset Created = new(2025, 3, 1, 10, 0, 0, TimeSpan.Zero);

    // Ids from the clock, then counted: unique across the test run and unlike any earlier run's.
    private static long next = DateTimeOffset.UtcNow.ToUnixTimeMilliseconds() % 1_000_000_000 * 100;

    protected LoopTestReturn(string orderName)
    {
        ReturnId = Interlocked.Increment(ref next).ToString(CultureInfo.InvariantCulture);
        OrderName = orderName;
    }

    public string ReturnId { get; }

    public string OrderName { get; }

    /// <summary>Line id of the <paramref name="n"/>th unit (1-based) as the configure action names them.</summary>
    public string Line(int n) => ReturnId + n.ToString("00", CultureInfo.InvariantCulture);

    public JsonObject Json(string state, int minutes) => Builder(null, state, minutes).BuildJson();

    public byte[] Webhook(string trigger, string state, int minutes) => Builder(trigger, state, minutes).BuildBytes();

    protected abstract void Configure(LoopReturnBuilder builder);

    private LoopReturnBuilder Builder(string? trigger, string state, int minutes)
    {
        LoopReturnBuilder b = LoopReturnBuilder.AReturn(ReturnId).WithTrigger(trigger).WithState(state).ForOrder(OrderName, "555000" + OrderName.TrimStart('#')).CreatedAt(Created);
        Configure(b);
        string stamp = Created.AddMinutes(minutes).ToString("yyyy-MM-dd'T'HH:mm:ss'+00:00'", CultureInfo.InvariantCulture);
        return b.Set("updated_at", stamp).Set("edited_at", stamp);
    }
}
