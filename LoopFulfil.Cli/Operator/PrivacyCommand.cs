using System.CommandLine;
using LoopFulfil.Cli.Hosting;
using LoopFulfil.Core.Privacy;
using Microsoft.Extensions.DependencyInjection;

namespace LoopFulfil.Cli.Operator;

/// <summary><c>loopfulfil privacy erase --email &lt;address&gt;</c>: wiring only; the work is <see cref="ErasureService"/>.</summary>
internal static class PrivacyCommand
{
    public static Command Build(CliContext context)
    {
        var email = new Option<string>("--email") { Description = "The e-mail address of the person whose data is erased.", Required = true };
        var erase = new Command("erase", "Erase one person's stored data; prints a receipt.") { email };
        erase.SetAction((parse, _) => EraseAsync(context, parse.GetRequiredValue(email)));
        return new NotedCommand(
            "privacy",
            "Erase one person's stored data on request.",
            """
            Erases one person's data from the configured storage (Storage__ConnectionString): every record holding it loses
            the personal fields (names, e-mail, phone, addresses); ids, SKUs, quantities, amounts, states and times stay.
            Prints a receipt to keep with the request (record keys and field names, no personal value). Safe to run twice.
            Against the Azure deployment use POST /api/ops/privacy/erase on the Function App. See docs/privacy.md.
            """)
        {
            erase,
        };
    }

    private static async Task<int> EraseAsync(CliContext context, string email) =>
        await OperatorServices.RunAsync(context, CliConfiguration.Build(context), async services =>
        {
            try
            {
                var receipt = await services.GetRequiredService<ErasureService>().EraseAsync(email, context.Stopping).ConfigureAwait(false);
                context.Stdout.Write(receipt.ToText());
                return 0;
            }
            catch (ArgumentException ex)
            {
                context.Stderr.WriteLine(ex.Message);
                return 2;
            }
        }).ConfigureAwait(false);
}
