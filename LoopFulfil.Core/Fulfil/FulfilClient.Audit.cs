using System.Text.Json;
using LoopFulfil.Core.Errors;

namespace LoopFulfil.Core.Fulfil;

// Read-only checks for the go-live audit; the model list is the Fulfil layer's, so no model name leaks into the audit.
public sealed partial class FulfilClient
{
    private const string Journal = "account.journal";

    public async Task<IReadOnlyList<FulfilModelAccess>> ProbeModelAccessAsync(bool includeGiftCards, CancellationToken cancellationToken = default)
    {
        string[] models =
        [
            Sale, SaleLine, Product, "product.template", "party.party", PartyAddress, Country, "stock.location", "stock.move",
            ReturnShipment, InternalShipment, Invoice, Move, MoveLine, "account.account", Journal, includeGiftCards ? _options.GiftCardModel : "",
        ];
        var results = new List<FulfilModelAccess>(models.Length);
        foreach (var model in models.Where(m => !string.IsNullOrWhiteSpace(m)).Distinct(StringComparer.Ordinal))
        {
            results.Add(new FulfilModelAccess(model, await ProbeAsync(model, cancellationToken).ConfigureAwait(false)));
        }

        return results;
    }

    public async Task<string?> GetJournalNameAsync(int journalId, CancellationToken cancellationToken = default)
    {
        var rows = await _http.SearchReadAsync<JsonElement>(Journal, [new object[] { "id", "=", journalId }], 0, 1, ["id", "name"], cancellationToken: cancellationToken).ConfigureAwait(false);
        return rows.Count == 1 ? rows[0].Str("name") ?? string.Empty : null;
    }

    private async Task<string?> ProbeAsync(string model, CancellationToken cancellationToken)
    {
        try
        {
            await _http.SearchReadAsync<JsonElement>(model, [], 0, 1, ["id"], cancellationToken: cancellationToken).ConfigureAwait(false);
            return null;
        }
        catch (FulfilAuthenticationException ex)
        {
            return $"the API key may not read it ({ex.StatusCode})";
        }
        catch (PermanentIntegrationException ex)
        {
            return $"Fulfil refused the read: {ex.Message}";
        }
        catch (TransientIntegrationException ex)
        {
            return $"Fulfil did not answer: {ex.Message}";
        }
    }
}
