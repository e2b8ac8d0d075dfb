using LoopFulfil.Core.Storage;
using LoopFulfil.Tests.Infrastructure;

namespace LoopFulfil.Tests.Storage;

/// <summary>The table adapter against a real Azurite.</summary>
public class AzureTableStoreTests
{
    private static readonly CancellationToken Ct = CancellationToken.None;

    private static async Task<(AzureTableStore Store, string Table)> NewTableAsync()
    {
        var store = await AzuriteTestServer.CreateTableStoreAsync();
        var table = AzuriteTestServer.UniqueTableName();
        await store.CreateTableIfNotExistsAsync(table, Ct);
        return (store, table);
    }

    [Fact]
    public async Task Create_table_twice_is_not_an_error()
    {
        var (store, table) = await NewTableAsync();

        await store.CreateTableIfNotExistsAsync(table, Ct);

        Assert.Equal(InsertOutcome.Inserted, await store.InsertAsync(table, new TableEntity("p", "r"), Ct));
    }

    [Fact]
    public async Task Get_returns_every_property_type_as_written()
    {
        var (store, table) = await NewTableAsync();
        var when = new DateTimeOffset(2025, 3, 4, 5, 6, 7, 891, TimeSpan.FromHours(2)).AddTicks(2345);
        var id = Guid.NewGuid();
        var entity = new TableEntity("orders", "1001")
        {
            ["Text"] = "hello 'quoted' \"double\" ünïcødé",
            ["Flag"] = true,
            ["Count"] = 42,
            ["Big"] = 9_007_199_254_740_993L,
            ["WholeDouble"] = 3.0,
            ["Ratio"] = 2.5,
            ["Amount"] = 12.50m,
            ["When"] = when,
            ["Id"] = id,
            ["Blob"] = new byte[] { 0, 1, 2, 254, 255 },
            ["Nothing"] = null,
        };

        Assert.Equal(InsertOutcome.Inserted, await store.InsertAsync(table, entity, Ct));
        Assert.False(string.IsNullOrEmpty(entity.ETag));
        var read = await store.GetAsync(table, "orders", "1001", Ct);

        Assert.NotNull(read);
        Assert.Equal("orders", read.PartitionKey);
        Assert.Equal("1001", read.RowKey);
        Assert.Equal(entity.ETag, read.ETag);
        Assert.NotNull(read.Timestamp);
        Assert.Equal("hello 'quoted' \"double\" ünïcødé", read["Text"]);
        Assert.Equal(true, read["Flag"]);
        Assert.Equal(42, read["Count"]);
        Assert.Equal(9_007_199_254_740_993L, read["Big"]);
        Assert.Equal(3.0, Assert.IsType<double>(read["WholeDouble"]));
        Assert.Equal(2.5, read["Ratio"]);
        Assert.Equal(12.50m, read.GetDecimal("Amount"));
        Assert.Equal("12.50", read["Amount"]); // scale survives: stored as a string
        Assert.Equal(when, read.GetDateTimeOffset("When"));
        Assert.Equal(TimeSpan.Zero, read.GetDateTimeOffset("When")!.Value.Offset);
        Assert.Equal(id, read["Id"]);
        Assert.Equal(new byte[] { 0, 1, 2, 254, 255 }, read["Blob"]);
        Assert.False(read.Properties.ContainsKey("Nothing"));
    }

    [Fact]
    public async Task Get_of_a_missing_entity_returns_null()
    {
        var (store, table) = await NewTableAsync();

        Assert.Null(await store.GetAsync(table, "p", "absent", Ct));
    }

    [Fact]
    public async Task Get_from_a_missing_table_is_a_permanent_error_not_null()
    {
        var store = await AzuriteTestServer.CreateTableStoreAsync();
        var missing = AzuriteTestServer.UniqueTableName("missing");

        var ex = await Assert.ThrowsAsync<PermanentStorageException>(() => store.GetAsync(missing, "p", "r", Ct));

        Assert.Equal(404, ex.Status);
        Assert.Equal("TableNotFound", ex.ErrorCode);
        Assert.Contains(missing, ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Insert_of_an_existing_entity_reports_AlreadyExists_and_keeps_the_first_write()
    {
        var (store, table) = await NewTableAsync();
        await store.InsertAsync(table, new TableEntity("webhook", "evt-1") { ["Attempt"] = 1 }, Ct);

        var second = await store.InsertAsync(table, new TableEntity("webhook", "evt-1") { ["Attempt"] = 2 }, Ct);

        Assert.Equal(InsertOutcome.AlreadyExists, second);
        Assert.Equal(1, (await store.GetAsync(table, "webhook", "evt-1", Ct))!.GetInt32("Attempt"));
    }

    [Fact]
    public async Task Two_writers_racing_with_the_same_etag_one_wins_and_the_other_gets_PreconditionFailed()
    {
        var (store, table) = await NewTableAsync();
        await store.InsertAsync(table, new TableEntity("stock", "SKU-1") { ["OnHand"] = 10 }, Ct);
        var first = (await store.GetAsync(table, "stock", "SKU-1", Ct))!;
        var second = (await store.GetAsync(table, "stock", "SKU-1", Ct))!;
        Assert.Equal(first.ETag, second.ETag);
        first["OnHand"] = 9;
        second["OnHand"] = 8;

        var outcomes = await Task.WhenAll(
            store.UpdateAsync(table, first, UpsertMode.Replace, Ct),
            store.UpdateAsync(table, second, UpsertMode.Merge, Ct));

        Assert.Single(outcomes, UpdateOutcome.Updated);
        Assert.Single(outcomes, UpdateOutcome.PreconditionFailed);
        var winner = outcomes[0] == UpdateOutcome.Updated ? first : second;
        var stored = (await store.GetAsync(table, "stock", "SKU-1", Ct))!;
        Assert.Equal(winner.GetInt32("OnHand"), stored.GetInt32("OnHand"));
        Assert.Equal(winner.ETag, stored.ETag);
    }

    [Fact]
    public async Task Update_with_the_fresh_etag_succeeds_again_after_an_update()
    {
        var (store, table) = await NewTableAsync();
        var entity = new TableEntity("p", "r") { ["N"] = 1 };
        await store.InsertAsync(table, entity, Ct);

        entity["N"] = 2;
        Assert.Equal(UpdateOutcome.Updated, await store.UpdateAsync(table, entity, UpsertMode.Replace, Ct));
        entity["N"] = 3;
        Assert.Equal(UpdateOutcome.Updated, await store.UpdateAsync(table, entity, UpsertMode.Replace, Ct));

        Assert.Equal(3, (await store.GetAsync(table, "p", "r", Ct))!.GetInt32("N"));
    }

    [Fact]
    public async Task Etag_from_a_query_guards_an_update_like_one_from_a_get()
    {
        var (store, table) = await NewTableAsync();
        await store.InsertAsync(table, new TableEntity("p", "r") { ["N"] = 1 }, Ct);
        var fromGet = (await store.GetAsync(table, "p", "r", Ct))!;
        TableEntity? fromQuery = null;
        await foreach (var e in store.QueryAsync(table, TableFilter.PartitionKeyEquals("p"), Ct))
        {
            fromQuery = e;
        }

        Assert.NotNull(fromQuery);
        Assert.Equal(fromGet.ETag, fromQuery.ETag);
        fromQuery["N"] = 2;
        Assert.Equal(UpdateOutcome.Updated, await store.UpdateAsync(table, fromQuery, UpsertMode.Merge, Ct));
        Assert.Equal(UpdateOutcome.PreconditionFailed, await store.UpdateAsync(table, fromGet, UpsertMode.Merge, Ct));
    }

    [Fact]
    public async Task Update_of_a_missing_entity_reports_NotFound()
    {
        var (store, table) = await NewTableAsync();

        var outcome = await store.UpdateAsync(table, new TableEntity("p", "gone") { ETag = "*", ["N"] = 1 }, UpsertMode.Merge, Ct);

        Assert.Equal(UpdateOutcome.NotFound, outcome);
        Assert.Null(await store.GetAsync(table, "p", "gone", Ct));
    }

    [Fact]
    public async Task Upsert_merge_keeps_other_properties_and_replace_drops_them()
    {
        var (store, table) = await NewTableAsync();
        await store.UpsertAsync(table, new TableEntity("p", "r") { ["A"] = "a", ["B"] = "b" }, UpsertMode.Merge, Ct);

        await store.UpsertAsync(table, new TableEntity("p", "r") { ["B"] = "b2", ["C"] = "c" }, UpsertMode.Merge, Ct);
        var merged = (await store.GetAsync(table, "p", "r", Ct))!;
        await store.UpsertAsync(table, new TableEntity("p", "r") { ["D"] = "d" }, UpsertMode.Replace, Ct);
        var replaced = (await store.GetAsync(table, "p", "r", Ct))!;

        Assert.Equal(["A", "B", "C"], merged.Properties.Keys.Order(StringComparer.Ordinal));
        Assert.Equal("a", merged["A"]);
        Assert.Equal("b2", merged["B"]);
        Assert.Equal(["D"], replaced.Properties.Keys);
    }

    [Fact]
    public async Task Delete_removes_the_entity_and_reports_false_when_already_absent()
    {
        var (store, table) = await NewTableAsync();
        await store.InsertAsync(table, new TableEntity("p", "r"), Ct);

        Assert.True(await store.DeleteAsync(table, "p", "r", Ct));
        Assert.Null(await store.GetAsync(table, "p", "r", Ct));
        Assert.False(await store.DeleteAsync(table, "p", "r", Ct));
    }

    [Fact]
    public async Task Query_over_more_than_a_thousand_entities_follows_continuation_across_pages()
    {
        var (store, table) = await NewTableAsync();
        const int perPartition = 500;
        foreach (var partition in new[] { "a", "b", "c" })
        {
            for (var start = 0; start < perPartition; start += 100)
            {
                var batch = Enumerable.Range(start, 100)
                    .Select(i => new TableBatchOperation(TableBatchAction.Insert, new TableEntity(partition, i.ToString("D5", System.Globalization.CultureInfo.InvariantCulture)) { ["N"] = i }))
                    .ToList();
                await store.SubmitBatchAsync(table, batch, Ct);
            }
        }

        var all = new List<TableEntity>();
        await foreach (var entity in store.QueryAsync(table, null, Ct))
        {
            all.Add(entity);
        }

        var filtered = new List<TableEntity>();
        var filter = TableFilter.And(TableFilter.NotEqual("PartitionKey", "b"), TableFilter.GreaterThanOrEqual("N", 100));
        await foreach (var entity in store.QueryAsync(table, filter, Ct))
        {
            filtered.Add(entity);
        }

        // The service returns at most 1,000 per page, so 1,500 means continuation tokens were followed.
        Assert.Equal(1_500, all.Count);
        Assert.Equal(1_500, all.Select(e => (e.PartitionKey, e.RowKey)).Distinct().Count());
        Assert.Equal(800, filtered.Count);
        Assert.All(filtered, e => Assert.True(e.PartitionKey != "b" && e.GetInt32("N") >= 100));
    }

    public static TheoryData<string> AwkwardKeys() => new()
    {
        "SKU/123/RED",
        @"back\slash",
        "#hash",
        "what?",
        "12:30:00",
        "with space ",
        "ünïcødé-日本語-😀",
        "it's",
        "100%",
        "~tilde~2F",
        "tab\tand\u0001control\u007f\u0085",
        "+plus&amp=eq",
        "(paren),comma",
    };

    [Theory]
    [MemberData(nameof(AwkwardKeys))]
    public async Task Keys_with_awkward_characters_round_trip_through_insert_get_query_update_and_delete(string key)
    {
        var (store, table) = await NewTableAsync();
        var entity = new TableEntity(key, key + "/row") { ["Raw"] = key };

        Assert.Equal(InsertOutcome.Inserted, await store.InsertAsync(table, entity, Ct));
        var read = await store.GetAsync(table, key, key + "/row", Ct);
        var queried = new List<TableEntity>();
        await foreach (var e in store.QueryAsync(table, TableFilter.And(TableFilter.PartitionKeyEquals(key), TableFilter.RowKeyEquals(key + "/row")), Ct))
        {
            queried.Add(e);
        }

        entity["Raw"] = "updated";
        var update = await store.UpdateAsync(table, entity, UpsertMode.Merge, Ct);
        var deleted = await store.DeleteAsync(table, key, key + "/row", Ct);

        Assert.NotNull(read);
        Assert.Equal(key, read.PartitionKey);
        Assert.Equal(key + "/row", read.RowKey);
        var only = Assert.Single(queried);
        Assert.Equal(key, only.PartitionKey);
        Assert.Equal(key + "/row", only.RowKey);
        Assert.Equal(UpdateOutcome.Updated, update);
        Assert.True(deleted);
    }

    [Fact]
    public async Task Row_key_prefix_query_returns_exactly_the_rows_with_that_raw_prefix()
    {
        var (store, table) = await NewTableAsync();
        foreach (var row in new[] { "SKU/1", "SKU/1/A", "SKU/10", "SKU/2", "SKU:1", "SKU", "SKV" })
        {
            await store.InsertAsync(table, new TableEntity("p", row), Ct);
        }

        var rows = new List<string>();
        await foreach (var e in store.QueryAsync(table, TableFilter.And(TableFilter.PartitionKeyEquals("p"), TableFilter.RowKeyStartsWith("SKU/1")), Ct))
        {
            rows.Add(e.RowKey);
        }

        Assert.Equal(["SKU/1", "SKU/1/A", "SKU/10"], rows.Order(StringComparer.Ordinal));
    }

    [Fact]
    public async Task Oversized_string_property_fails_with_a_typed_error_naming_table_and_keys()
    {
        var (store, table) = await NewTableAsync();
        var entity = new TableEntity("orders", "SKU/9") { ["Notes"] = new string('x', 40_000) };

        var ex = await Assert.ThrowsAsync<TableEntityTooLargeException>(() => store.InsertAsync(table, entity, Ct));

        Assert.Equal(table, ex.Table);
        Assert.Equal("orders", ex.PartitionKey);
        Assert.Equal("SKU/9", ex.RowKey);
        Assert.Contains("Notes", ex.Message, StringComparison.Ordinal);
        Assert.Contains("SKU/9", ex.Message, StringComparison.Ordinal);
        Assert.Null(await store.GetAsync(table, "orders", "SKU/9", Ct));
    }

    [Fact]
    public async Task Entity_over_one_mebibyte_fails_with_a_typed_error_naming_table_and_keys()
    {
        var (store, table) = await NewTableAsync();
        var entity = new TableEntity("orders", "big");
        for (var i = 0; i < 20; i++)
        {
            entity[$"Part{i}"] = new string('y', 30_000);
        }

        var ex = await Assert.ThrowsAsync<TableEntityTooLargeException>(() => store.UpsertAsync(table, entity, UpsertMode.Replace, Ct));

        Assert.Equal("EntityTooLarge", ex.ErrorCode);
        Assert.Contains(table, ex.Message, StringComparison.Ordinal);
        Assert.Contains("'big'", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Service_size_rejection_also_maps_to_the_typed_error()
    {
        var (store, table) = await NewTableAsync();
        store.CheckSizesBeforeSending = false;
        var entity = new TableEntity("orders", "svc") { ["Notes"] = new string('x', 40_000) };

        var ex = await Assert.ThrowsAsync<TableEntityTooLargeException>(() => store.InsertAsync(table, entity, Ct));

        Assert.Equal(400, ex.Status);
        Assert.Equal("PropertyValueTooLarge", ex.ErrorCode);
        Assert.Equal("svc", ex.RowKey);
    }

    [Fact]
    public async Task Batch_applies_insert_merge_replace_and_delete_together()
    {
        var (store, table) = await NewTableAsync();
        await store.InsertAsync(table, new TableEntity("p", "merge") { ["A"] = "a", ["B"] = "b" }, Ct);
        await store.InsertAsync(table, new TableEntity("p", "replace") { ["A"] = "a", ["B"] = "b" }, Ct);
        await store.InsertAsync(table, new TableEntity("p", "delete"), Ct);
        var inserted = new TableEntity("p", "new/1") { ["N"] = 1L };

        await store.SubmitBatchAsync(table,
        [
            new(TableBatchAction.Insert, inserted),
            new(TableBatchAction.UpsertMerge, new TableEntity("p", "merge") { ["B"] = "b2" }),
            new(TableBatchAction.UpsertReplace, new TableEntity("p", "replace") { ["B"] = "b2" }),
            new(TableBatchAction.Delete, new TableEntity("p", "delete")),
        ], Ct);

        var stored = (await store.GetAsync(table, "p", "new/1", Ct))!;
        Assert.Equal(1L, stored["N"]);
        Assert.Equal(stored.ETag, inserted.ETag);
        var merged = (await store.GetAsync(table, "p", "merge", Ct))!;
        Assert.Equal(("a", "b2"), (merged.GetString("A"), merged.GetString("B")));
        var replaced = (await store.GetAsync(table, "p", "replace", Ct))!;
        Assert.Equal(["B"], replaced.Properties.Keys);
        Assert.Null(await store.GetAsync(table, "p", "delete", Ct));
    }

    [Fact]
    public async Task Batch_with_a_conflicting_insert_writes_nothing_and_reports_the_conflict()
    {
        var (store, table) = await NewTableAsync();
        await store.InsertAsync(table, new TableEntity("p", "exists"), Ct);

        var ex = await Assert.ThrowsAsync<TableBatchFailedException>(() => store.SubmitBatchAsync(table,
        [
            new(TableBatchAction.Insert, new TableEntity("p", "fresh")),
            new(TableBatchAction.Insert, new TableEntity("p", "exists")),
        ], Ct));

        Assert.Equal(409, ex.Status);
        Assert.Null(await store.GetAsync(table, "p", "fresh", Ct));
    }

    [Fact]
    public async Task Batch_delete_with_a_stale_etag_fails_with_412()
    {
        var (store, table) = await NewTableAsync();
        var entity = new TableEntity("p", "r") { ["N"] = 1 };
        await store.InsertAsync(table, entity, Ct);
        var stale = entity.ETag;
        entity["N"] = 2;
        await store.UpdateAsync(table, entity, UpsertMode.Replace, Ct);

        var ex = await Assert.ThrowsAsync<TableBatchFailedException>(() => store.SubmitBatchAsync(table,
            [new(TableBatchAction.Delete, new TableEntity("p", "r") { ETag = stale })], Ct));

        Assert.Equal(412, ex.Status);
        Assert.NotNull(await store.GetAsync(table, "p", "r", Ct));
    }

    [Fact]
    public async Task Batch_across_partitions_or_over_100_operations_is_refused_before_sending()
    {
        var store = await AzuriteTestServer.CreateTableStoreAsync();
        var table = AzuriteTestServer.UniqueTableName(); // never created: nothing may reach the service

        await Assert.ThrowsAsync<ArgumentException>(() => store.SubmitBatchAsync(table,
            [new(TableBatchAction.Insert, new TableEntity("a", "1")), new(TableBatchAction.Insert, new TableEntity("b", "1"))], Ct));
        await Assert.ThrowsAsync<ArgumentException>(() => store.SubmitBatchAsync(table,
            Enumerable.Range(0, 101).Select(i => new TableBatchOperation(TableBatchAction.Insert, new TableEntity("a", $"{i}"))).ToList(), Ct));
    }

    [Fact]
    public async Task Table_prefix_is_prepended_to_every_table_name()
    {
        var connection = await AzuriteTestServer.GetConnectionStringAsync();
        var prefixed = new AzureTableStore(StorageAccount.FromConnectionString(connection), tablePrefix: "pfx");
        var plain = new AzureTableStore(StorageAccount.FromConnectionString(connection));
        var table = AzuriteTestServer.UniqueTableName();

        await prefixed.CreateTableIfNotExistsAsync(table, Ct);
        await prefixed.InsertAsync(table, new TableEntity("p", "r"), Ct);

        Assert.NotNull(await plain.GetAsync("pfx" + table, "p", "r", Ct));
    }

    [Fact]
    public async Task Wrong_account_key_is_a_permanent_error()
    {
        var real = StorageAccount.FromConnectionString(await AzuriteTestServer.GetConnectionStringAsync());
        var wrongKey = $"DefaultEndpointsProtocol=http;AccountName={LoopFulfil.Sandbox.Azurite.AzuriteProcess.AccountName};AccountKey={Convert.ToBase64String(new byte[64])};TableEndpoint={real.TableEndpoint}";
        var store = new AzureTableStore(StorageAccount.FromConnectionString(wrongKey));

        var ex = await Assert.ThrowsAsync<PermanentStorageException>(() => store.CreateTableIfNotExistsAsync(AzuriteTestServer.UniqueTableName(), Ct));

        Assert.Equal(403, ex.Status);
    }
}
