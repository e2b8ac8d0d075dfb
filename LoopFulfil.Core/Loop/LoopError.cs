using System.Text.Json;

namespace LoopFulfil.Core.Loop;

/// <summary>Code and message from any of Loop's error shapes.</summary>
internal sealed record LoopError(string? Code, string? Message)
{
    // Shapes: {"errors":{"message","code"}}, {"error":{"code","http_code","message"}}, {"message","errors":{"field":["…"]}}.
    public static LoopError? TryRead(byte[] body)
    {
        if (FirstIsObject(body) is false)
        {
            return null;
        }

        try
        {
            using var document = JsonDocument.Parse(body, new JsonDocumentOptions { AllowTrailingCommas = true });
            var root = document.RootElement;
            string? code = null;
            var message = Text(root, "message");
            foreach (var name in (ReadOnlySpan<string>)["errors", "error"])
            {
                if (!root.TryGetProperty(name, out var errors) || errors.ValueKind != JsonValueKind.Object)
                {
                    continue;
                }

                code ??= Text(errors, "code") is { } c && !int.TryParse(c, out _) ? c : Text(errors, "http_code");
                message = Text(errors, "message")
                    ?? (FirstFieldError(errors) is { } field ? (message is null ? field : $"{message} {field}") : message);
            }

            return code is null && message is null ? null : new LoopError(code, message);
        }
        catch (JsonException)
        {
            return null;
        }
    }

    private static bool FirstIsObject(byte[] body)
    {
        foreach (var b in body)
        {
            if (b is (byte)' ' or (byte)'\t' or (byte)'\r' or (byte)'\n')
            {
                continue;
            }

            return b == (byte)'{';
        }

        return false;
    }

    private static string? Text(JsonElement element, string name)
        => element.TryGetProperty(name, out var value) ? value.ValueKind switch
        {
            JsonValueKind.String => value.GetString(),
            JsonValueKind.Number => value.GetRawText(),
            _ => null,
        } : null;

    private static string? FirstFieldError(JsonElement errors)
    {
        foreach (var property in errors.EnumerateObject())
        {
            if (property.Value.ValueKind == JsonValueKind.Array)
            {
                foreach (var item in property.Value.EnumerateArray())
                {
                    if (item.ValueKind == JsonValueKind.String)
                    {
                        return $"{property.Name}: {item.GetString()}";
                    }
                }
            }
        }

        return null;
    }
}
