using LoopFulfil.Sandbox.Fulfil;

namespace LoopFulfil.Tests.Returns;

/// <summary>Codes of the Fulfil sandbox demo data the returns tests rely on.</summary>
internal static class Demo
{
    public const string Quarantine = FulfilSandboxDemo.QuarantineLocationCode;
    public const string Sellable = FulfilSandboxDemo.SellableLocationCode;
    public const string TeeM = "TEE-BLK-M";
    public const string Hoodie = "HOOD/GRY:XL";
}
