using System.Globalization;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using LoopFulfil.Sandbox.Hosting;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;

namespace LoopFulfil.Sandbox.Loop;

/// <summary>The HTTP surface of <see cref="LoopSandbox"/>: Loop's routes under <c>/api/{version}</c> plus <c>/_sandbox</c> admin routes.</summary>
internal static partial class LoopSandboxApi
{
    private const int MaxPageSize = 750;
    private const int DefaultPageSize = 100;
    private static readonly TimeSpan MaxRange = TimeSpan.FromDays(120);
    private static readonly string[] DefaultStates = ["open", "closed", "expired"];
    private static readonly string[] TimestampFormats = ["yyyy-MM-dd HH:mm:ss", "yyyy-MM-dd'T'HH:mm:ss", "yyyy-MM-dd"];
    private static readonly JsonDocumentOptions Lenient = new() { AllowTrailingCommas = true };

    public static void Map(WebApplication app, LoopSandbox sandbox)
    {
        // Recorded first, so faulted and unauthorised requests count like they do against Loop's limit.
        app.Use(async (context, next) =>
        {
            if (context.Request.Path.StartsWithSegments("/_sandbox", StringComparison.Ordinal))
            {
                await next(context);
                return;
            }

            var (at, limited) = sandbox.Arrive();
            await AnswerRecording.RunAsync(
                context,
                async () =>
                {
                    if (limited)
                    {
                        context.Response.StatusCode = StatusCodes.Status429TooManyRequests;
                        context.Response.Headers.RetryAfter = "1";
                        context.Response.ContentType = "application/json";
                        await context.Response.WriteAsync("""{"error":{"code":"429","http_code":"GEN-TOO-MANY-REQUESTS","message":"Too many requests."}}""");
                        return;
                    }

                    await next(context);
                },
                () => sandbox.RecordRequest(new LoopSandboxRequest(at, context.Request.Method, context.Request.Path.Value ?? "", context.Request.QueryString.Value ?? "",
                    context.RequestAborted.IsCancellationRequested ? 0 : context.Response.StatusCode)));
        });
        app.UseFaultInjection(sandbox.Faults);
        app.Use(async (context, next) =>
        {
            if (context.Request.Path.StartsWithSegments("/api", StringComparison.Ordinal)
                && context.Request.Headers["X-Authorization"].ToString() != sandbox.ApiKey)
            {
                context.Response.StatusCode = StatusCodes.Status401Unauthorized;
                context.Response.ContentType = "application/json";
                await context.Response.WriteAsync("""{"error":{"code":"401","http_code":"GEN-UNAUTHORIZED","message":"Unauthorized."}}""");
                return;
            }

            await next(context);
        });

        var api = app.MapGroup("/api/{version}").AddEndpointFilter(async (context, next) =>
        {
            var version = context.HttpContext.Request.RouteValues["version"] as string ?? "";
            return VersionPattern().IsMatch(version) ? await next(context) : Error(404, "Unknown API version.", "NOT_FOUND");
        });

        MapReturns(api, sandbox);
        MapCommerce(api, sandbox);
        MapWebhooks(api, sandbox);
        MapAdmin(app, sandbox);
    }

    private static void MapReturns(RouteGroupBuilder api, LoopSandbox sandbox)
    {
        api.MapGet("/warehouse/return/details", (HttpRequest request) =>
        {
            var q = request.Query;
            lock (sandbox.Gate)
            {
                var found = sandbox.ReturnsUnsafe.FirstOrDefault(r =>
                    (q.ContainsKey("return_id") && LoopSandbox.Text(r["id"]) == q["return_id"].ToString())
                    || (q.ContainsKey("order_name") && LoopSandbox.Text(r["order_name"]) == q["order_name"].ToString())
                    || (q.ContainsKey("order_id") && LoopSandbox.Text(r["provider_order_id"]) == q["order_id"].ToString()));
                return found is null ? Error(404, "Return not found.", "RETURN_NOT_FOUND") : Json(found);
            }
        });

        api.MapGet("/warehouse/return/list", (HttpRequest request) => ListReturns(request, sandbox));

        api.MapPost("/warehouse/return/{id}/process", async (string id, HttpRequest request) =>
        {
            var details = await ReadObjectAsync(request);
            lock (sandbox.Gate)
            {
                var r = sandbox.FindReturn(id);
                if (r is null)
                {
                    return Error(404, "Return not found.", "RETURN_NOT_FOUND");
                }

                // Loop documents this rejection with HTTP 200 and an errors object, unlike the other actions.
                (string Message, string Code)? refusal = LoopSandbox.Text(r["state"]) switch
                {
                    "open" => null,
                    "cancelled" => ("Return is cancelled and therefore cannot be processed.", "UNPROCESSABLE_CANCELLED_RETURN"),
                    "expired" => ("Return is expired and cannot be processed.", "UNPROCESSABLE_EXPIRED_RETURN"),
                    "review" or "needs review" => ("Return is flagged and cannot be processed.", "UNPROCESSABLE_FLAGGED_RETURN"),
                    _ => ("Return is closed and therefore cannot be processed.", "UNPROCESSABLE_CLOSED_RETURN"),
                };
                if (refusal is { } why)
                {
                    return Error(200, why.Message, why.Code);
                }

                sandbox.RecordProcessUnsafe(id, details);
            }

            sandbox.QueueProcessing(id);
            return True();
        });

        api.MapPost("/warehouse/return/{id}/flag", (string id) => Transition(sandbox, id, "flag",
            state => state == "open" ? null : ($"Return is {state} and cannot be flagged.", "UNPROCESSABLE_RETURN_STATE"),
            "review", "return.updated"));

        api.MapPost("/warehouse/return/{id}/cancel", (string id) => Transition(sandbox, id, "cancel",
            state => state switch
            {
                "open" => null,
                "expired" => ("Return is expired and cannot be cancelled.", "UNPROCESSABLE_EXPIRED_RETURN"),
                "review" or "needs review" => ("Return is flagged and cannot be cancelled.", "UNPROCESSABLE_FLAGGED_RETURN"),
                _ => ($"Return is {state} and cannot be cancelled.", "UNPROCESSABLE_RETURN_STATE"),
            },
            "cancelled", "return.updated"));

        // Close Return fulfils no outcome: the state changes and nothing else (no refunds, no exchange order).
        api.MapPost("/warehouse/return/{id}/close", (string id) => Transition(sandbox, id, "close",
            state => state is "open" or "review" or "needs review" or "expired" ? null : ($"Return is {state} and cannot be closed.", "UNPROCESSABLE_RETURN_STATE"),
            "closed", "return.closed"));

        api.MapPost("/warehouse/return/{id}/note", async (string id, HttpRequest request) =>
        {
            var body = await ReadObjectAsync(request);
            var content = LoopSandbox.Text(body?["content"]);
            lock (sandbox.Gate)
            {
                if (sandbox.FindReturn(id) is null)
                {
                    return Error(404, "Return not found.", "RETURN_NOT_FOUND");
                }

                if (string.IsNullOrWhiteSpace(content) || content.Length >= 255)
                {
                    return Error(422, "Content is required and must be less than 255 characters.", "INVALID_NOTE_CONTENT");
                }

                sandbox.NotesUnsafe(id).Add(new JsonObject
                {
                    ["id"] = sandbox.NextId(),
                    ["content"] = content,
                    ["created_at"] = sandbox.Stamp(),
                });
            }

            return True();
        });

        api.MapGet("/warehouse/return/{id}/notes", (string id) =>
        {
            lock (sandbox.Gate)
            {
                if (sandbox.FindReturn(id) is null)
                {
                    return Error(404, "Return not found.", "RETURN_NOT_FOUND");
                }

                var notes = sandbox.NotesUnsafe(id);
                return notes.Count == 0
                    ? Error(422, "No notes found for this return.", "NO_NOTES")
                    : Json(new JsonObject { ["notes"] = new JsonArray([.. notes.Select(n => n.DeepClone())]) });
            }
        });

        api.MapPost("/warehouse/return/{id}/remove", (string id, HttpRequest request) =>
        {
            var ids = request.Query["line_item_id"].ToString().Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
            lock (sandbox.Gate)
            {
                var r = sandbox.FindReturn(id);
                if (r is null)
                {
                    return Error(404, "Return not found.", "RETURN_NOT_FOUND");
                }

                if (LoopSandbox.Text(r["state"]) != "open")
                {
                    return Error(422, "Line items can only be removed from open returns.", "UNPROCESSABLE_RETURN_STATE");
                }

                var lines = r["line_items"] as JsonArray ?? [];
                var known = lines.Select(l => LoopSandbox.Text(l?["line_item_id"])).ToHashSet(StringComparer.Ordinal);
                if (ids.Length == 0 || ids.Any(i => !known.Contains(i)))
                {
                    return Error(422, "Every line_item_id must belong to the return.", "INVALID_LINE_ITEMS");
                }

                foreach (var line in lines.Where(l => ids.Contains(LoopSandbox.Text(l?["line_item_id"]))).ToList())
                {
                    lines.Remove(line);
                }
            }

            sandbox.QueueProcessing(id);
            return True();
        });
    }

    private static IResult Transition(LoopSandbox sandbox, string id, string action, Func<string?, (string Message, string Code)?> refuse, string newState, string trigger)
    {
        lock (sandbox.Gate)
        {
            var r = sandbox.FindReturn(id);
            if (r is null)
            {
                return Error(404, "Return not found.", "RETURN_NOT_FOUND");
            }

            if (refuse(LoopSandbox.Text(r["state"])) is { } why)
            {
                return Error(422, why.Message, why.Code);
            }

            r["state"] = newState;
            r["updated_at"] = sandbox.Stamp();
            if (action == "flag")
            {
                sandbox.CountFlag(id);
            }
        }

        sandbox.QueueReturnWebhook(id, trigger);
        return True();
    }

    private static IResult ListReturns(HttpRequest request, LoopSandbox sandbox)
    {
        var q = request.Query;
        var now = sandbox.Time.GetUtcNow();
        var to = now;
        var from = now.AddDays(-1);
        if (q.ContainsKey("to") && !TryParseListTime(q["to"].ToString(), out to))
        {
            return Validation("to", "The to is not a valid date.");
        }

        if (q.ContainsKey("from") && !TryParseListTime(q["from"].ToString(), out from))
        {
            return Validation("from", "The from is not a valid date.");
        }

        if (to - from > MaxRange)
        {
            return Validation("to", "The maximum number of days in the range of the from and to properties is 120 days.");
        }

        var filter = q.ContainsKey("filter") ? q["filter"].ToString() : "created_at";
        if (filter is not ("created_at" or "updated_at"))
        {
            return Validation("filter", "The selected filter is invalid.");
        }

        var pageSize = DefaultPageSize;
        if (q.ContainsKey("pageSize") && (!int.TryParse(q["pageSize"], CultureInfo.InvariantCulture, out pageSize) || pageSize < 1 || pageSize > MaxPageSize))
        {
            return Validation("pageSize", "The page size must be between 1 and 750.");
        }

        var stateValues = q["state"].Concat(q["state[]"]).SelectMany(s => (s ?? "").Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)).ToArray();
        var states = stateValues.Length == 0 ? DefaultStates : stateValues;
        (DateTimeOffset At, string Id)? after = null;
        if (q.ContainsKey("cursor"))
        {
            if (!TryReadCursor(q["cursor"].ToString(), out var cursor))
            {
                return Validation("cursor", "The cursor is invalid.");
            }

            after = cursor;
        }

        List<(DateTimeOffset At, string Id, JsonObject Body)> matching;
        lock (sandbox.Gate)
        {
            matching = [.. sandbox.ReturnsUnsafe
                .Select(r => (At: ReturnTime(r, filter), Id: LoopSandbox.Text(r["id"]) ?? "", Body: r))
                .Where(x => x.At >= from && x.At <= to && states.Contains(LoopSandbox.Text(x.Body["state"])))
                .OrderBy(x => x.At).ThenBy(x => x.Id.Length).ThenBy(x => x.Id, StringComparer.Ordinal)
                .Select(x => (x.At, x.Id, (JsonObject)x.Body.DeepClone()))];
        }

        if (!string.Equals(q["paginate"].ToString(), "true", StringComparison.OrdinalIgnoreCase))
        {
            return Json(new JsonArray([.. matching.Select(m => (JsonNode)m.Body)]));
        }

        var remaining = after is { } a
            ? matching.Where(m => m.At > a.At || (m.At == a.At && CompareIds(m.Id, a.Id) > 0)).ToList()
            : matching;
        var page = remaining.Take(pageSize).ToList();
        string? next = null;
        if (remaining.Count > pageSize)
        {
            var last = page[^1];
            var query = string.Join('&', q.Where(p => p.Key != "cursor").SelectMany(p => p.Value.Select(v => $"{Uri.EscapeDataString(p.Key)}={Uri.EscapeDataString(v ?? "")}")));
            next = $"{request.Scheme}://{request.Host}{request.PathBase}{request.Path}?{query}&cursor={WriteCursor(last.At, last.Id)}";
        }

        return Json(new JsonObject
        {
            ["returns"] = new JsonArray([.. page.Select(m => (JsonNode)m.Body)]),
            ["nextPageUrl"] = next,
            ["previousPageUrl"] = null,
        });
    }

    private static void MapCommerce(RouteGroupBuilder api, LoopSandbox sandbox)
    {
        api.MapPut("/products", async (HttpRequest request) =>
        {
            var body = await ReadObjectAsync(request);
            if (Missing(body, "external_id", "name") is { } field)
            {
                return Validation(field, $"The {field} field is required.");
            }

            if (body!["price"] is JsonNode price && !IsInteger(price))
            {
                return Validation("price", "The price must be an integer number of minor units.");
            }

            lock (sandbox.Gate)
            {
                var stored = Upsert(sandbox, "products", body);
                return Json(new JsonObject { ["product"] = stored.DeepClone() });
            }
        });

        api.MapPut("/products/external/{productExternalId}/product-variants", async (string productExternalId, HttpRequest request) =>
        {
            var body = await ReadObjectAsync(request);
            if (Missing(body, "external_id", "name") is { } field)
            {
                return Validation(field, $"The {field} field is required.");
            }

            if ((MoneyError(body!["price"], "price") ?? MoneyError(body["logistics_information"]?["cost"], "logistics_information.cost")) is { } moneyError)
            {
                return moneyError;
            }

            lock (sandbox.Gate)
            {
                if (!sandbox.CommerceUnsafe("products").TryGetValue(productExternalId, out var product))
                {
                    return Error(404, "Product not found.", "NOT_FOUND");
                }

                body["product"] = new JsonObject { ["id"] = product["id"]!.DeepClone(), ["external_id"] = productExternalId };
                return Json(Upsert(sandbox, "variants", body).DeepClone());
            }
        });

        api.MapPut("/orders", async (string version, HttpRequest request) =>
        {
            var body = await ReadObjectAsync(request);
            if (Missing(body, "external_id", "name") is { } field)
            {
                return Validation(field, $"The {field} field is required.");
            }

            // From 2026-10 created_at is required, in ATOM format.
            var createdAt = LoopSandbox.Text(body!["created_at"]);
            var legacy = version is "v1" or "2026-07";
            if ((!legacy || createdAt is not null) && (createdAt is null || !AtomPattern().IsMatch(createdAt)))
            {
                return Validation("created_at", "The created_at must be a date in ATOM format (Y-m-d\\TH:i:sP).");
            }

            var status = LoopSandbox.Text(body["status"]) ?? "active";
            if (status is not ("active" or "archived" or "cancelled" or "unknown"))
            {
                return Validation("status", "The selected status is invalid.");
            }

            foreach (var name in (string[])["total_price", "total_discounts", "total_taxes"])
            {
                if (MoneyError(body[name], name) is { } moneyError)
                {
                    return moneyError;
                }
            }

            lock (sandbox.Gate)
            {
                var lines = body["line_items"] as JsonArray ?? [];
                for (var i = 0; i < lines.Count; i++)
                {
                    var line = lines[i];
                    if (MoneyError(line?["unit_price"], $"line_items.{i}.unit_price") is { } lineMoney)
                    {
                        return lineMoney;
                    }

                    if (!References(sandbox, "products", line?["product"]) || !References(sandbox, "variants", line?["product_variant"]))
                    {
                        return Validation($"line_items.{i}", "The line item references an unknown product or variant.");
                    }
                }

                return Json(new JsonObject { ["order"] = Upsert(sandbox, "orders", body).DeepClone() });
            }
        });

        api.MapPut("/customers", async (HttpRequest request) =>
        {
            var body = await ReadObjectAsync(request);
            if (Missing(body, "external_id") is { } field)
            {
                return Validation(field, $"The {field} field is required.");
            }

            lock (sandbox.Gate)
            {
                return Json(Upsert(sandbox, "customers", body!).DeepClone());
            }
        });

        api.MapPut("/locations", async (HttpRequest request) =>
        {
            var body = await ReadObjectAsync(request);
            if (Missing(body, "external_id", "name", "status", "address") is { } field)
            {
                return Validation(field, $"The {field} field is required.");
            }

            if (LoopSandbox.Text(body!["status"]) is not ("active" or "inactive"))
            {
                return Validation("status", "The selected status is invalid.");
            }

            if (body["address"] is not JsonObject address || Missing(address, "address1", "city", "country_code") is not null)
            {
                return Validation("address", "The address needs address1, city and country_code.");
            }

            lock (sandbox.Gate)
            {
                return Json(Upsert(sandbox, "locations", body).DeepClone());
            }
        });

        api.MapPost("/inventories/{variantId}/{locationId}", async (string variantId, string locationId, HttpRequest request) =>
        {
            var body = await ReadObjectAsync(request);
            if (body?["available_count"] is not JsonNode count || !IsInteger(count))
            {
                return Validation("available_count", "The available count must be an integer.");
            }

            lock (sandbox.Gate)
            {
                var variant = sandbox.FindCommerceByIdUnsafe("variants", variantId);
                var location = sandbox.FindCommerceByIdUnsafe("locations", locationId);
                if (variant is null || location is null)
                {
                    return Error(404, variant is null ? "Product variant not found." : "Location not found.", "NOT_FOUND");
                }

                var available = count.GetValue<long>();
                var created = !sandbox.InventoryUnsafe.ContainsKey((variantId, locationId));
                sandbox.InventoryUnsafe[(variantId, locationId)] = available;
                sandbox.CountWrite("inventories");
                sandbox.LogWrite("inventories", variantId + "/" + locationId, variantId + "/" + locationId, created);
                var locationCopy = location.DeepClone().AsObject();

                // Loop's inventory response nests the address as a one-element array.
                if (locationCopy["address"] is JsonObject a)
                {
                    locationCopy["address"] = new JsonArray(a.DeepClone());
                }

                return Json(new JsonObject
                {
                    ["available_count"] = available,
                    ["product_variant"] = new JsonArray(variant.DeepClone()),
                    ["location"] = new JsonArray(locationCopy),
                });
            }
        });
    }

    private static void MapWebhooks(RouteGroupBuilder api, LoopSandbox sandbox)
    {
        api.MapGet("/webhooks", () =>
        {
            lock (sandbox.Gate)
            {
                return Json(new JsonObject { ["webhooks"] = new JsonArray([.. sandbox.WebhooksUnsafe.Select(w => w.DeepClone())]) });
            }
        });

        api.MapPost("/webhooks", async (HttpRequest request) =>
        {
            var body = await ReadObjectAsync(request);
            if (Missing(body, "topic", "trigger", "url") is { } field)
            {
                return Validation(field, $"The {field} field is required.");
            }

            lock (sandbox.Gate)
            {
                var hook = new JsonObject
                {
                    ["id"] = sandbox.NextId(),
                    ["shop_id"] = 65432,
                    ["topic"] = body!["topic"]!.DeepClone(),
                    ["trigger"] = body["trigger"]!.DeepClone(),
                    ["url"] = body["url"]!.DeepClone(),
                    ["status"] = LoopSandbox.Text(body["status"]) ?? "inactive",
                };
                sandbox.WebhooksUnsafe.Add(hook);
                return Json(hook.DeepClone(), StatusCodes.Status201Created);
            }
        });

        api.MapPut("/webhooks/{id}", async (string id, HttpRequest request) =>
        {
            var body = await ReadObjectAsync(request);
            lock (sandbox.Gate)
            {
                var hook = sandbox.WebhooksUnsafe.FirstOrDefault(w => LoopSandbox.Text(w["id"]) == id);
                if (hook is null)
                {
                    return Error(404, "Webhook not found.", "NOT_FOUND");
                }

                foreach (var name in (string[])["topic", "trigger", "url", "status"])
                {
                    if (body?[name] is JsonNode value)
                    {
                        hook[name] = value.DeepClone();
                    }
                }

                return Results.NoContent();
            }
        });

        api.MapDelete("/webhooks/{id}", (string id) =>
        {
            lock (sandbox.Gate)
            {
                return sandbox.WebhooksUnsafe.RemoveAll(w => LoopSandbox.Text(w["id"]) == id) == 0
                    ? Error(404, "Webhook not found.", "NOT_FOUND")
                    : Results.NoContent();
            }
        });
    }

    private static void MapAdmin(WebApplication app, LoopSandbox sandbox)
    {
        app.MapPost("/_sandbox/returns", async (HttpRequest request) =>
        {
            using var reader = new StreamReader(request.Body, Encoding.UTF8);
            var text = await reader.ReadToEndAsync();
            try
            {
                var notify = !string.Equals(request.Query["notify"].ToString(), "false", StringComparison.OrdinalIgnoreCase);
                var id = sandbox.AddReturn(text, notify);
                return Json(new JsonObject { ["id"] = id }, StatusCodes.Status201Created);
            }
            catch (Exception ex) when (ex is JsonException or ArgumentException or InvalidOperationException)
            {
                return Error(400, "Body must be a Loop return JSON object.", "BAD_REQUEST");
            }
        });

        app.MapGet("/_sandbox/returns/{id}", (string id) =>
            sandbox.GetReturn(id) is { } r ? Json(r) : Error(404, "Return not found.", "RETURN_NOT_FOUND"));

        app.MapPost("/_sandbox/returns/{id}/state", async (string id, HttpRequest request) =>
        {
            var body = await ReadObjectAsync(request);
            var state = LoopSandbox.Text(body?["state"]);
            if (state is not ("open" or "closed" or "cancelled" or "expired" or "review"))
            {
                return Error(400, "state must be open, closed, cancelled, expired or review.", "BAD_REQUEST");
            }

            if (sandbox.GetState(id) is null)
            {
                return Error(404, "Return not found.", "RETURN_NOT_FOUND");
            }

            sandbox.SetState(id, state);
            return Results.NoContent();
        });

        app.MapGet("/_sandbox/returns/{id}/notes", (string id) =>
            Json(new JsonArray([.. sandbox.GetNotes(id).Select(n => (JsonNode)JsonValue.Create(n))])));

        app.MapPost("/_sandbox/webhooks/send", async (HttpRequest request) =>
        {
            var body = await ReadObjectAsync(request);
            var topic = LoopSandbox.Text(body?["topic"]);
            var trigger = LoopSandbox.Text(body?["trigger"]);
            if (topic is null || trigger is null || body?["payload"] is not JsonObject payload)
            {
                return Error(400, "Send {topic, trigger, payload}.", "BAD_REQUEST");
            }

            var sent = await sandbox.SendWebhookAsync(topic, trigger, payload);
            return Json(new JsonArray([.. sent.Select(d => (JsonNode)new JsonObject { ["url"] = d.Url.ToString(), ["status"] = d.StatusCode })]));
        });
    }

    private static JsonObject Upsert(LoopSandbox sandbox, string resource, JsonObject body)
    {
        var records = sandbox.CommerceUnsafe(resource);
        var externalId = LoopSandbox.Text(body["external_id"])!;
        var stored = (JsonObject)body.DeepClone();
        var created = !records.TryGetValue(externalId, out var existing);
        stored["id"] = existing is not null ? existing["id"]!.DeepClone() : sandbox.NextId();
        records[externalId] = stored;
        sandbox.IndexCommerceUnsafe(resource, stored);
        sandbox.CountWrite(resource);
        sandbox.LogWrite(resource, externalId, LoopSandbox.Text(stored["id"]) ?? "", created);
        return stored;
    }

    private static bool References(LoopSandbox sandbox, string resource, JsonNode? reference)
    {
        if (reference is null)
        {
            return true;
        }

        var id = LoopSandbox.Text(reference["id"]);
        var externalId = LoopSandbox.Text(reference["external_id"]);
        if ((id is null) == (externalId is null))
        {
            return false;
        }

        return id is not null ? sandbox.FindCommerceByIdUnsafe(resource, id) is not null : sandbox.CommerceUnsafe(resource).ContainsKey(externalId!);
    }

    private static IResult? MoneyError(JsonNode? money, string field)
    {
        if (money is null)
        {
            return null;
        }

        return money is JsonObject o && o["amount"] is JsonNode amount && IsInteger(amount)
               && LoopSandbox.Text(o["currency_code"]) is { Length: 3 }
            ? null
            : Validation(field, $"The {field} must be {{amount: integer minor units, currency_code: ISO 4217}}.");
    }

    private static bool IsInteger(JsonNode node)
        => node is JsonValue value && value.GetValueKind() == JsonValueKind.Number && value.TryGetValue<long>(out _);

    private static string? Missing(JsonObject? body, params string[] fields)
    {
        if (body is null)
        {
            return fields[0];
        }

        return fields.FirstOrDefault(f => body[f] is null || (body[f] is JsonValue v && v.TryGetValue<string>(out var s) && string.IsNullOrWhiteSpace(s)));
    }

    private static DateTimeOffset ReturnTime(JsonObject r, string filter)
    {
        var text = LoopSandbox.Text(r[filter]) ?? LoopSandbox.Text(r["created_at"]);
        return TryParseListTime(text, out var at) ? at : DateTimeOffset.MinValue;
    }

    private static bool TryParseListTime(string? text, out DateTimeOffset value)
    {
        value = default;
        if (string.IsNullOrWhiteSpace(text))
        {
            return false;
        }

        return DateTimeOffset.TryParseExact(text, TimestampFormats, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal | DateTimeStyles.AdjustToUniversal, out value)
            || DateTimeOffset.TryParse(text, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal, out value);
    }

    private static int CompareIds(string a, string b)
        => a.Length != b.Length ? a.Length.CompareTo(b.Length) : string.CompareOrdinal(a, b);

    private static string WriteCursor(DateTimeOffset at, string id)
    {
        var raw = JsonSerializer.Serialize(new Dictionary<string, string>
        {
            ["at"] = at.ToString("O", CultureInfo.InvariantCulture),
            ["id"] = id,
        });
        return Convert.ToBase64String(Encoding.UTF8.GetBytes(raw)).TrimEnd('=').Replace('+', '-').Replace('/', '_');
    }

    private static bool TryReadCursor(string cursor, out (DateTimeOffset At, string Id) value)
    {
        value = default;
        try
        {
            var padded = cursor.Replace('-', '+').Replace('_', '/');
            padded += new string('=', (4 - (padded.Length % 4)) % 4);
            var parsed = JsonSerializer.Deserialize<Dictionary<string, string>>(Convert.FromBase64String(padded));
            if (parsed is null || !parsed.TryGetValue("at", out var at) || !parsed.TryGetValue("id", out var id))
            {
                return false;
            }

            value = (DateTimeOffset.Parse(at, CultureInfo.InvariantCulture), id);
            return true;
        }
        catch (Exception ex) when (ex is FormatException or JsonException)
        {
            return false;
        }
    }

    private static async Task<JsonObject?> ReadObjectAsync(HttpRequest request)
    {
        using var reader = new StreamReader(request.Body, Encoding.UTF8);
        var text = await reader.ReadToEndAsync();
        if (string.IsNullOrWhiteSpace(text))
        {
            return null;
        }

        try
        {
            return JsonNode.Parse(text, documentOptions: Lenient) as JsonObject;
        }
        catch (JsonException)
        {
            return null;
        }
    }

    private static IResult True() => Results.Text("true", "application/json", Encoding.UTF8, StatusCodes.Status200OK);

    private static IResult Json(JsonNode node, int status = StatusCodes.Status200OK)
        => Results.Text(Encoding.UTF8.GetString(LoopWireFormat.Serialize(node)), "application/json", Encoding.UTF8, status);

    private static IResult Error(int status, string message, string code)
        => Json(new JsonObject { ["errors"] = new JsonObject { ["message"] = message, ["code"] = code } }, status);

    private static IResult Validation(string field, string message)
        => Json(new JsonObject
        {
            ["message"] = "The given data was invalid.",
            ["errors"] = new JsonObject { [field] = new JsonArray(message) },
        }, StatusCodes.Status422UnprocessableEntity);

    [GeneratedRegex(@"^(\d{4}-\d{2}|v1|unstable|latest)$")]
    private static partial Regex VersionPattern();

    [GeneratedRegex(@"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(Z|[+-]\d{2}:\d{2})$")]
    private static partial Regex AtomPattern();
}
