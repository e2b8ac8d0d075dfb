using Azure.Core;
using LoopFulfil.Core.Storage;
using LoopFulfil.Tests.Infrastructure;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;

namespace LoopFulfil.Tests.Storage;

public class StorageConfigurationTests
{
    [Fact]
    public void Development_storage_means_azurite_path_style_on_the_default_ports()
    {
        var account = StorageAccount.FromConnectionString("UseDevelopmentStorage=true");

        Assert.Equal("http://127.0.0.1:10002/devstoreaccount1", account.TableEndpoint!.AbsoluteUri.TrimEnd('/'));
        Assert.Equal("http://127.0.0.1:10001/devstoreaccount1", account.QueueEndpoint!.AbsoluteUri.TrimEnd('/'));
        Assert.Equal("http://127.0.0.1:10000/devstoreaccount1", account.BlobEndpoint!.AbsoluteUri.TrimEnd('/'));
        Assert.False(account.UsesTokenCredential);
    }

    [Fact]
    public void Endpoints_default_from_account_protocol_and_suffix()
    {
        var account = StorageAccount.FromConnectionString("DefaultEndpointsProtocol=https;AccountName=lfprod;AccountKey=a2V5;EndpointSuffix=core.chinacloudapi.cn");

        Assert.Equal("https://lfprod.table.core.chinacloudapi.cn", account.TableEndpoint!.AbsoluteUri.TrimEnd('/'));
        Assert.Equal("https://lfprod.queue.core.chinacloudapi.cn", account.QueueEndpoint!.AbsoluteUri.TrimEnd('/'));
        Assert.Equal("https://lfprod.blob.core.chinacloudapi.cn", account.BlobEndpoint!.AbsoluteUri.TrimEnd('/'));
    }

    [Theory]
    [InlineData("justtext")]
    [InlineData("AccountKey=c2VjcmV0c2VjcmV0")]
    [InlineData("AccountName=acct;AccountKey=c2VjcmV0c2VjcmV0;TableEndpoint=not a uri")]
    public void Malformed_connection_strings_fail_without_repeating_the_string(string connectionString)
    {
        var ex = Assert.Throws<FormatException>(() => StorageAccount.FromConnectionString(connectionString));

        Assert.DoesNotContain("c2VjcmV0c2VjcmV0", ex.Message, StringComparison.Ordinal);
        Assert.Contains("endpoint", ex.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("SKU/1", "SKU~2F1")]
    [InlineData(@"a\b#c?d%e'f~g", "a~5Cb~23c~3Fd~25e~27f~7Eg")]
    [InlineData("tab\t\u007f\u0085", "tab~09~7F~85")]
    [InlineData("plain:key with spaces-ü", "plain:key with spaces-ü")]
    public void Table_keys_escape_forbidden_characters_reversibly(string raw, string stored)
    {
        Assert.Equal(stored, TableKey.Escape(raw));
        Assert.Equal(raw, TableKey.Unescape(stored));
    }

    [Fact]
    public void Table_key_escaping_round_trips_every_character_and_preserves_prefixes()
    {
        var all = new string(Enumerable.Range(0, 0x300).Select(i => (char)i).ToArray());

        var escaped = TableKey.Escape(all);

        Assert.Equal(all, TableKey.Unescape(escaped));
        Assert.DoesNotContain(escaped, c => c < 0x20 || c is '/' or '\\' or '#' or '?' || (c >= 0x7F && c <= 0x9F));
        Assert.StartsWith(TableKey.Escape(all[..100]), escaped, StringComparison.Ordinal);
        Assert.Equal("~Z9 ~", TableKey.Unescape("~Z9 ~")); // not an escape: kept as is
    }

    [Fact]
    public void Filters_quote_values_type_literals_and_escape_keys()
    {
        Assert.Equal("PartitionKey eq 'SKU~2F1'", TableFilter.PartitionKeyEquals("SKU/1"));
        Assert.Equal("Name eq 'O''Brien'", TableFilter.Equal("Name", "O'Brien"));
        Assert.Equal("Big gt 5L", TableFilter.GreaterThan("Big", 5L));
        Assert.Equal("Amount eq '12.50'", TableFilter.Equal("Amount", 12.50m));
        Assert.Equal("At lt datetime'2025-01-02T03:04:05.0000000Z'",
            TableFilter.LessThan("At", new DateTimeOffset(2025, 1, 2, 4, 4, 5, TimeSpan.FromHours(1))));
        Assert.Equal("(A eq true) and (B ne 3)", TableFilter.And(TableFilter.Equal("A", true), TableFilter.NotEqual("B", 3)));
        Assert.Equal("RowKey ge 'a~2F' and RowKey lt 'a~2G'", TableFilter.RowKeyStartsWith("a/"));
        Assert.Throws<ArgumentException>(() => TableFilter.Equal("Name eq 'x' or 1", "y"));
    }

    [Fact]
    public async Task AddLoopFulfilStorage_binds_the_Storage_section_and_resolves_working_singletons()
    {
        var configuration = new ConfigurationBuilder().AddInMemoryCollection(new Dictionary<string, string?>
        {
            ["Storage:ConnectionString"] = await AzuriteTestServer.GetConnectionStringAsync(),
            ["Storage:TablePrefix"] = "di",
        }).Build();
        await using var provider = new ServiceCollection().AddLoopFulfilStorage(configuration).BuildServiceProvider();

        var tables = provider.GetRequiredService<ITableStore>();
        var queues = provider.GetRequiredService<IQueueStore>();
        var table = AzuriteTestServer.UniqueTableName();
        var queue = AzuriteTestServer.UniqueQueueName();
        await tables.CreateTableIfNotExistsAsync(table, CancellationToken.None);
        await tables.InsertAsync(table, new TableEntity("p", "r"), CancellationToken.None);
        await queues.CreateQueueIfNotExistsAsync(queue, CancellationToken.None);
        await queues.SendAsync(queue, "x"u8.ToArray(), null, CancellationToken.None);

        Assert.Same(tables, provider.GetRequiredService<ITableStore>());
        Assert.NotNull(await new AzureTableStore(provider.GetRequiredService<StorageAccount>()).GetAsync("di" + table, "p", "r", CancellationToken.None));
        Assert.Equal(1, await queues.GetApproximateCountAsync(queue, CancellationToken.None));
    }

    [Fact]
    public void Endpoint_settings_switch_to_token_authentication_with_the_registered_credential()
    {
        var configuration = new ConfigurationBuilder().AddInMemoryCollection(new Dictionary<string, string?>
        {
            ["Storage:TableEndpoint"] = "https://lfprod.table.core.windows.net",
            ["Storage:QueueEndpoint"] = "https://lfprod.queue.core.windows.net/",
        }).Build();
        var services = new ServiceCollection();
        services.AddSingleton<TokenCredential>(new Azure.Identity.ClientSecretCredential("tenant", "client", "unused"));
        using var provider = services.AddLoopFulfilStorage(configuration).BuildServiceProvider();

        var account = provider.GetRequiredService<StorageAccount>();

        Assert.True(account.UsesTokenCredential);
        Assert.Equal(new Uri("https://lfprod.table.core.windows.net/"), account.TableEndpoint);
        Assert.Equal(new Uri("https://lfprod.queue.core.windows.net/"), account.QueueEndpoint);
        // Not set: the blob service of the table endpoint's account.
        Assert.Equal(new Uri("https://lfprod.blob.core.windows.net/"), account.BlobEndpoint);
        Assert.IsType<AzureQueueStore>(provider.GetRequiredService<IQueueStore>());
        Assert.IsType<AzureBlobStore>(provider.GetRequiredService<IBlobStore>());
    }

    [Theory]
    [InlineData("Storage:ConnectionString", "AccountName=acct")]
    [InlineData("Storage:TableEndpoint", "http://insecure.example/")]
    [InlineData("Storage:BlobEndpoint", "http://lfprod.blob.core.windows.net/")]
    [InlineData("Storage:TablePrefix", "1bad")]
    public void Invalid_storage_settings_fail_validation_naming_the_setting(string key, string value)
    {
        var configuration = new ConfigurationBuilder().AddInMemoryCollection(new Dictionary<string, string?> { [key] = value }).Build();
        using var provider = new ServiceCollection().AddLoopFulfilStorage(configuration).BuildServiceProvider();

        var ex = Assert.Throws<OptionsValidationException>(() => provider.GetRequiredService<IOptions<StorageOptions>>().Value);

        Assert.Contains(key, ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Endpoint_mode_without_a_blob_endpoint_it_can_derive_fails_validation_naming_BlobEndpoint()
    {
        var configuration = new ConfigurationBuilder().AddInMemoryCollection(new Dictionary<string, string?>
        {
            ["Storage:TableEndpoint"] = "https://tables.example.net/",
        }).Build();
        using var provider = new ServiceCollection().AddLoopFulfilStorage(configuration).BuildServiceProvider();

        var ex = Assert.Throws<OptionsValidationException>(() => provider.GetRequiredService<IOptions<StorageOptions>>().Value);

        Assert.Contains("Storage:BlobEndpoint", ex.Message, StringComparison.Ordinal);
    }
}
