using System.Text;

namespace LoopFulfil.Core.Reconciliation;

/// <summary>
/// The report as CSV for finance: one row per mismatch (RFC 4180, UTF-8, CRLF), amounts as plain invariant decimals
/// so a spreadsheet sums them. Cells that a spreadsheet would run as a formula are prefixed with <c>'</c>.
/// </summary>
public static class ReconciliationCsv
{
    public static readonly IReadOnlyList<string> Header = ["return_id", "category", "owner", "reference", "expected", "actual", "currency", "healed", "exception_id", "detail"];

    public static string Render(ReconciliationReport report)
    {
        ArgumentNullException.ThrowIfNull(report);
        var csv = new StringBuilder();
        AppendRow(csv, Header);
        foreach (var m in report.Mismatches)
        {
            AppendRow(csv, [m.ReturnId, m.Kind.ToString(), m.Owner, m.Reference ?? "", m.Expected, m.Actual, m.Currency ?? "", m.Healed ? "yes" : "no", m.ExceptionId ?? "", m.Detail]);
        }

        return csv.ToString();
    }

    private static void AppendRow(StringBuilder csv, IReadOnlyList<string> cells)
    {
        for (var i = 0; i < cells.Count; i++)
        {
            if (i > 0)
            {
                csv.Append(',');
            }

            csv.Append(Cell(cells[i]));
        }

        csv.Append("\r\n");
    }

    internal static string Cell(string value)
    {
        // A leading = + @ (or - not starting a number) makes Excel evaluate the cell: neutralise, never execute.
        if (value.Length > 0 && (value[0] is '=' or '+' or '@' or '\t' or '\r' || (value[0] == '-' && (value.Length == 1 || !char.IsAsciiDigit(value[1])))))
        {
            value = "'" + value;
        }

        return value.AsSpan().IndexOfAny(",\"\r\n") >= 0 ? "\"" + value.Replace("\"", "\"\"", StringComparison.Ordinal) + "\"" : value;
    }
}
