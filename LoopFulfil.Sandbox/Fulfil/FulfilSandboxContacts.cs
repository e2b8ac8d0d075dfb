namespace LoopFulfil.Sandbox.Fulfil;

// Customer contact details as Tryton keeps them (party.contact_mechanism) and the addresses a sale ships and bills to.
public sealed partial class FulfilSandboxState
{
    /// <summary>Adds a contact mechanism (<c>email</c>, <c>phone</c>, <c>mobile</c>…) to a party.</summary>
    public int AddContact(int partyId, string type, string value)
    {
        lock (_gate)
        {
            _ = Rec("party.party", partyId);
            return Insert("party.contact_mechanism", new() { ["party"] = partyId, ["type"] = type, ["value"] = value, ["active"] = true });
        }
    }

    /// <summary>Points a sale's shipment and invoice addresses at <paramref name="addressId"/> (seeding: in any state).</summary>
    public void SetSaleAddress(int saleId, int addressId)
    {
        lock (_gate)
        {
            _ = Rec("party.address", addressId);
            var sale = Rec("sale.sale", saleId);
            sale["shipment_address"] = addressId;
            sale["invoice_address"] = addressId;
            sale["write_date"] = Now();
        }
    }
}
