using LoopFulfil.Cli.Hosting;
using LoopFulfil.Core.Privacy;
using Microsoft.Extensions.DependencyInjection;

namespace LoopFulfil.Cli.Operator;

/// <summary><c>loopfulfil privacy erase --email &lt;address&gt;</c>: wiring only; the work is <see cref="ErasureService"/>.</summary>
internal static class PrivacyCommand
{
    public const string Help = """
        Usage: loopfulfil privacy erase --email <address>

        Erases one person's data from the configured storage (Storage__ConnectionString): every record holding it loses
        the personal fields (names, e-mail, phone, addresses); ids, SKUs, quantities, amounts, states and times stay.
        Prints a receipt to keep with the request (record keys and field names, no personal value). Safe to run twice.
        Against the Azure deployment use POST /api/ops/privacy/erase on the Function App. See docs/privacy.md.
        """;

    public static async Task<int> RunAsync(CliContext context, IReadOnlyList<string> args)
    {
        var line = CommandLine.Parse(args, [], ["--email"], out var error);
        if (line is null || line.Help || line.Positional is not ["erase"] || line.Value("--email") is not { Length: > 0 } email)
        {
            (line?.Help == true ? context.Stdout : context.Stderr).WriteLine(error is null ? Help : error + " Run 'loopfulfil privacy --help'.");
            return line?.Help == true ? 0 : 2;
        }

        return await OperatorServices.RunAsync(context, CliConfiguration.Build(context), async services =>
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
}
