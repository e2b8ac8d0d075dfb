using Microsoft.Extensions.Options;

namespace LoopFulfil.Core.Fulfil;

/// <summary>
/// <see cref="IFulfilClient"/> over <see cref="FulfilHttp"/>. Workflow methods read the record's state first and only
/// call the transitions still missing, so a redelivered message repeats no side effect.
/// </summary>
public sealed partial class FulfilClient : IFulfilClient
{
    private const string Sale = "sale.sale";
    private const string SaleLine = "sale.line";
    private const string Product = "product.product";
    private const string ReturnShipment = "stock.shipment.out.return";
    private const string InternalShipment = "stock.shipment.internal";
    private const string Invoice = "account.invoice";
    private const string Move = "account.move";
    private const string MoveLine = "account.move.line";

    private static readonly object[] ActiveOrArchived = ["active", "in", new[] { true, false }];

    private readonly FulfilHttp _http;
    private readonly FulfilOptions _options;

    public FulfilClient(HttpClient httpClient, IOptions<FulfilOptions> options, TimeProvider timeProvider)
    {
        ArgumentNullException.ThrowIfNull(options);
        _options = options.Value;
        _http = new FulfilHttp(httpClient, _options, timeProvider);
    }

    /// <summary>The low-level interface, for operations this client does not type.</summary>
    public FulfilHttp Http => _http;
}
