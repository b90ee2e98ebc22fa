using LokiSharp.Server.Configuration;

namespace LokiSharp.Server.Tests;

public sealed class S3StorageConfigTests
{
    private const string S3Schema =
        "schema_config:\n  configs:\n    - {from: 2024-01-01, store: tsdb, object_store: s3, schema: v13, index: {prefix: index_, period: 24h}}\n";

    private static string Fixture(string name) => File.ReadAllText(Path.Combine(AppContext.BaseDirectory, "Fixtures", name));

    private static LoadedConfig Load(string text, bool expandEnv = false) => ConfigLoader.LoadText(text, "s3.yaml", expandEnv);

    private static Storage.Objects.S3ObjectStoreOptions S3Of(string text) =>
        ObjectStoreSelection.ForPeriod(Load(text).Config, 0).S3 ?? throw new InvalidOperationException("not an S3 store");

    [Fact]
    public void Unset_keys_keep_Loki_3_defaults()
    {
        var aws = Load(ConfigLoaderTests.MinimalSchema).Config.StorageConfig.Aws;

        Assert.Equal("", aws.S3);
        Assert.False(aws.S3ForcePathStyle);
        Assert.Equal("", aws.Bucketnames);
        Assert.Equal("", aws.Endpoint);
        Assert.Equal("", aws.Region);
        Assert.Equal("", aws.AccessKeyId);
        Assert.Equal("", aws.SecretAccessKey);
        Assert.Equal("", aws.SessionToken);
        Assert.False(aws.Insecure);
        Assert.Equal(TimeSpan.FromSeconds(90), aws.HttpConfig.IdleConnTimeout);
        Assert.Equal(TimeSpan.Zero, aws.HttpConfig.ResponseHeaderTimeout);
        Assert.Equal(TimeSpan.Zero, aws.HttpConfig.Timeout);
        Assert.False(aws.HttpConfig.InsecureSkipVerify);
        Assert.Equal("", aws.HttpConfig.CaFile);
        Assert.Equal("v4", aws.SignatureVersion);
        Assert.Equal("STANDARD", aws.StorageClass);
        Assert.Equal("", aws.Sse.Type);
        Assert.Equal(TimeSpan.FromMilliseconds(100), aws.BackoffConfig.MinPeriod);
        Assert.Equal(TimeSpan.FromSeconds(3), aws.BackoffConfig.MaxPeriod);
        Assert.Equal(5, aws.BackoffConfig.MaxRetries);
        Assert.Null(Load(ConfigLoaderTests.MinimalSchema).Config.Common.Storage.S3);
    }

    [Fact]
    public void Every_modelled_key_is_parsed()
    {
        var text = S3Schema + """
            storage_config:
              aws:
                s3: s3://k:s@eu-west-1/from-url
                s3forcepathstyle: true
                bucketnames: logs
                endpoint: rgw.local:7480
                region: eu-west-3
                access_key_id: AKIA
                secret_access_key: SECRET
                session_token: TOKEN
                insecure: true
                http_config:
                  idle_conn_timeout: 1m
                  response_header_timeout: 5s
                  timeout: 30s
                  insecure_skip_verify: true
                  ca_file: /etc/ca.pem
                signature_version: v4
                storage_class: STANDARD_IA
                sse:
                  type: SSE-KMS
                  kms_key_id: key-1
                  kms_encryption_context: '{"team": "logs"}'
                backoff_config:
                  min_period: 50ms
                  max_period: 10s
                  max_retries: 2
            """;
        var aws = Load(text).Config.StorageConfig.Aws;

        Assert.Equal("s3://k:s@eu-west-1/from-url", aws.S3);
        Assert.True(aws.S3ForcePathStyle);
        Assert.Equal(("logs", "rgw.local:7480", "eu-west-3"), (aws.Bucketnames, aws.Endpoint, aws.Region));
        Assert.Equal(("AKIA", "SECRET", "TOKEN"), (aws.AccessKeyId, aws.SecretAccessKey, aws.SessionToken));
        Assert.True(aws.Insecure);
        Assert.Equal(TimeSpan.FromMinutes(1), aws.HttpConfig.IdleConnTimeout);
        Assert.Equal(TimeSpan.FromSeconds(5), aws.HttpConfig.ResponseHeaderTimeout);
        Assert.Equal(TimeSpan.FromSeconds(30), aws.HttpConfig.Timeout);
        Assert.True(aws.HttpConfig.InsecureSkipVerify);
        Assert.Equal("/etc/ca.pem", aws.HttpConfig.CaFile);
        Assert.Equal("STANDARD_IA", aws.StorageClass);
        Assert.Equal(("SSE-KMS", "key-1", "{\"team\": \"logs\"}"), (aws.Sse.Type, aws.Sse.KmsKeyId, aws.Sse.KmsEncryptionContext));
        Assert.Equal((TimeSpan.FromMilliseconds(50), TimeSpan.FromSeconds(10), 2),
            (aws.BackoffConfig.MinPeriod, aws.BackoffConfig.MaxPeriod, aws.BackoffConfig.MaxRetries));

        var options = S3Of(text);
        Assert.Equal("rgw.local:7480", options.Endpoint);
        Assert.Equal("eu-west-3", options.Region);
        Assert.Equal("logs", options.BucketName);
        Assert.Equal(("AKIA", "SECRET", "TOKEN"), (options.AccessKeyId, options.SecretAccessKey, options.SessionToken));
        Assert.True(options.ForcePathStyle);
        Assert.True(options.Insecure);
        Assert.Equal(TimeSpan.FromSeconds(5), options.ResponseHeaderTimeout);
        Assert.Equal(2, options.MaxRetries);
    }

    [Fact]
    public void The_sections_are_used_and_only_their_unused_keys_are_reported_with_their_line()
    {
        var loaded = Load(S3Schema + "common:\n  storage:\n    s3:\n      bucketnames: logs\n" +
            "storage_config:\n  aws:\n    region: eu-west-1\n    disable_dualstack: true\n    http_config: {idle_conn_timeout: 1m}\n");

        Assert.Equal(
            [("storage_config.aws.disable_dualstack", 11L, ConfigNoticeKind.Ignored), ("storage_config.aws.http_config.idle_conn_timeout", 12L, ConfigNoticeKind.Ignored)],
            loaded.Notices.Select(n => (n.Key, n.Line, n.Kind)));
    }

    [Theory]
    [InlineData("insecure: maybe", "line 6, column 15: key storage_config.aws.insecure: cannot parse \"maybe\" as bool")]
    [InlineData("http_config:\n      response_header_timeout: soon", "line 7, column 32: key storage_config.aws.http_config.response_header_timeout: cannot parse \"soon\" as duration")]
    [InlineData("backoff_config: {max_retries: many}", "key storage_config.aws.backoff_config.max_retries: cannot parse \"many\" as int")]
    [InlineData("http_config: {idle_conn_timeout: forever}", "key storage_config.aws.http_config.idle_conn_timeout: cannot parse \"forever\" as duration")]
    [InlineData("disable_dualstack: perhaps", "key storage_config.aws.disable_dualstack: cannot parse \"perhaps\" as bool")]
    public void Wrong_types_stop_start_up_naming_key_and_line(string key, string expected)
    {
        var error = Assert.Throws<ConfigException>(() => Load(S3Schema + "storage_config:\n  aws:\n    " + key + "\n"));

        Assert.Contains(expected, error.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("signature_version: v2", "key storage_config.aws.signature_version: unsupported signature version \"v2\"")]
    [InlineData("storage_class: COLD", "key storage_config.aws.storage_class: unsupported S3 storage class \"COLD\"")]
    [InlineData("sse: {type: SSE-C}", "key storage_config.aws.sse.type: unsupported S3 SSE type \"SSE-C\"")]
    [InlineData("sse: {kms_encryption_context: 'not json'}", "key storage_config.aws.sse.kms_encryption_context: invalid S3 SSE encryption context")]
    public void Values_Loki_rejects_stop_start_up_even_when_no_period_uses_S3(string key, string expected)
    {
        var error = Assert.Throws<ConfigException>(() => Load(ConfigLoaderTests.MinimalSchema + "storage_config:\n  aws:\n    " + key + "\n"));

        Assert.StartsWith("s3.yaml: ", error.Message, StringComparison.Ordinal);
        Assert.Contains(expected, error.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("s3://AKIA:se%2Fcret@us-east-2/logs", null, "us-east-2", "logs", "AKIA", "se/cret")]
    [InlineData("s3://us-west-1/logs", null, "us-west-1", "logs", null, null)]
    [InlineData("s3://AKIA:s@s3.us-east-1.amazonaws.com/logs", "http://s3.us-east-1.amazonaws.com", null, "logs", "AKIA", "s")]
    [InlineData("https://AKIA:s@minio.example.com:9000/logs", "https://minio.example.com:9000", null, "logs", "AKIA", "s")]
    [InlineData("http://loki:supersecret@localhost.:9000/logs", "http://localhost.:9000", null, "logs", "loki", "supersecret")]
    [InlineData("s3://access_key:secret_access_key@custom_endpoint/bucket_name", null, "custom_endpoint", "bucket_name", "access_key", "secret_access_key")]
    public void The_s3_URL_gives_keys_region_or_endpoint_and_bucket_as_in_Loki(
        string url, string? endpoint, string? region, string bucket, string? key, string? secret)
    {
        var options = S3Of(S3Schema + $"storage_config:\n  aws:\n    s3: {url}\n");

        Assert.Equal((endpoint, region, bucket), (options.Endpoint, options.Region, options.BucketName));
        Assert.Equal((key, secret), (options.AccessKeyId, options.SecretAccessKey));
        Assert.Null(options.SessionToken);
    }

    [Fact]
    public void Explicit_keys_override_the_URL()
    {
        var options = S3Of(S3Schema + "storage_config:\n  aws:\n    s3: s3://k:s@us-east-2/from-url\n    bucketnames: logs\n" +
            "    endpoint: rgw:7480\n    region: eu-west-1\n    access_key_id: AK\n    secret_access_key: SK\n");

        Assert.Equal(("rgw:7480", "eu-west-1", "logs", "AK", "SK"),
            (options.Endpoint, options.Region, options.BucketName, options.AccessKeyId, options.SecretAccessKey));
    }

    [Fact]
    public void No_keys_leave_the_SDK_default_credential_chain()
    {
        var options = S3Of(S3Schema + "storage_config:\n  aws:\n    bucketnames: logs\n    region: eu-west-1\n");

        Assert.Null(options.AccessKeyId);
        Assert.Null(options.ToCredentials());
    }

    [Theory]
    [InlineData("s3: inmemory:///logs", "key storage_config.aws.s3: inmemory:// is Loki's in-memory mock store")]
    [InlineData("s3: not a url", "key storage_config.aws.s3: \"not a url\" is not a URL")]
    [InlineData("s3: 'https://AKIA:secret/with/slash@host.example.com/logs'", "key storage_config.aws.s3: \"https://AKIA:xxxxx@host.example.com/logs\" is not a URL")]
    [InlineData("region: eu-west-1", "key storage_config.aws.bucketnames: at least one bucket name must be specified")]
    [InlineData("bucketnames: ' , '", "key storage_config.aws.bucketnames: at least one bucket name must be specified")]
    [InlineData("bucketnames: logs\n    access_key_id: AK", "key storage_config.aws.secret_access_key: must supply both an Access Key ID and Secret Access Key or neither")]
    [InlineData("bucketnames: logs\n    secret_access_key: SK", "key storage_config.aws.access_key_id: must supply both")]
    [InlineData("bucketnames: logs\n    backoff_config: {max_retries: -1}", "key storage_config.aws.backoff_config.max_retries: must not be negative")]
    [InlineData("bucketnames: logs\n    endpoint: 'http://bad host'", "key storage_config.aws.endpoint: \"http://bad host\" is not a host[:port] or URL")]
    public void A_period_on_S3_needs_a_reachable_bucket(string keys, string expected)
    {
        var error = Assert.Throws<ConfigException>(() => Load(S3Schema + "storage_config:\n  aws:\n    " + keys + "\n"));

        Assert.StartsWith("s3.yaml: ", error.Message, StringComparison.Ordinal);
        Assert.Contains(expected, error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Several_bucketnames_are_refused_with_a_clear_error()
    {
        var error = Assert.Throws<ConfigException>(() => Load(S3Schema + "storage_config:\n  aws:\n    bucketnames: a, b,c\n"));

        Assert.Contains("key storage_config.aws.bucketnames: 3 buckets are listed (a, b, c)", error.Message, StringComparison.Ordinal);
        Assert.Contains("list a single bucket", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void One_bucketname_is_trimmed()
    {
        Assert.Equal("logs", S3Of(S3Schema + "storage_config:\n  aws:\n    bucketnames: ' logs , '\n").BucketName);
    }

    [Fact]
    public void Common_storage_s3_fills_storage_config_aws_whose_own_keys_win()
    {
        var text = S3Schema + """
            common:
              storage:
                s3:
                  endpoint: common.example.com
                  bucketnames: common-bucket
                  access_key_id: AK
                  secret_access_key: SK
                  insecure: true
                  s3forcepathstyle: true
                  http_config: {response_header_timeout: 7s, idle_conn_timeout: 1m}
            storage_config:
              aws:
                endpoint: rgw.example.com:7480
                http_config: {idle_conn_timeout: 2m}
            """;
        var config = Load(text).Config;

        var aws = config.StorageConfig.Aws;
        Assert.Equal(("rgw.example.com:7480", "common-bucket", "AK", "SK"), (aws.Endpoint, aws.Bucketnames, aws.AccessKeyId, aws.SecretAccessKey));
        Assert.True(aws.Insecure && aws.S3ForcePathStyle);
        Assert.Equal((TimeSpan.FromSeconds(7), TimeSpan.FromMinutes(2)), (aws.HttpConfig.ResponseHeaderTimeout, aws.HttpConfig.IdleConnTimeout));
        var options = ObjectStoreSelection.ForPeriod(config, 0).S3!;
        Assert.Equal(("rgw.example.com:7480", "common-bucket", true), (options.Endpoint, options.BucketName, options.Insecure));
    }

    [Fact]
    public void Common_storage_s3_alone_is_the_store()
    {
        var options = S3Of(S3Schema + "common:\n  storage:\n    s3:\n      s3: s3://AK:SK@eu-west-1/logs\n");

        Assert.Equal(("eu-west-1", "logs", "AK", "SK"), (options.Region, options.BucketName, options.AccessKeyId, options.SecretAccessKey));
    }

    [Fact]
    public void Two_common_storage_backends_are_refused_as_in_Loki()
    {
        var error = Assert.Throws<ConfigException>(() => Load(S3Schema +
            "common:\n  storage:\n    filesystem: {chunks_directory: /c}\n    s3: {bucketnames: logs}\n"));

        Assert.Contains("key common.storage: too many storage configs provided in the common config", error.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("filesystem", ObjectStoreKind.Filesystem)]
    [InlineData("", ObjectStoreKind.Filesystem)]
    [InlineData("s3", ObjectStoreKind.S3)]
    [InlineData("aws", ObjectStoreKind.S3)]
    public void Filesystem_and_S3_are_served(string value, ObjectStoreKind kind)
    {
        var config = Load(PeriodOn(value) + "storage_config:\n  aws:\n    bucketnames: logs\n").Config;

        var selection = ObjectStoreSelection.ForPeriod(config, 0);

        Assert.Equal((kind, value), (selection.Kind, selection.Name));
        Assert.Equal(kind == ObjectStoreKind.S3, selection.S3 is not null);
    }

    [Theory]
    [InlineData("gcs")]
    [InlineData("azure")]
    [InlineData("swift")]
    [InlineData("bos")]
    [InlineData("cos")]
    [InlineData("alibabacloud")]
    public void Other_Loki_stores_stop_start_up_naming_the_key(string value)
    {
        var error = Assert.Throws<ConfigException>(() => Load(PeriodOn(value)));

        Assert.Contains($"key schema_config.configs[0].object_store: \"{value}\" is a Loki object store that LokiSharp does not support", error.Message,
            StringComparison.Ordinal);
        Assert.Contains("filesystem", error.Message, StringComparison.Ordinal);
        Assert.Contains("(s3 or aws)", error.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("nowhere", "unrecognized `object_store` type `nowhere`, which also does not match any named_stores")]
    [InlineData("inmemory", "unrecognized `object_store` type `inmemory` (a Loki 2.x value Loki 3.x no longer accepts)")]
    [InlineData("aws-dynamo", "unrecognized `object_store` type `aws-dynamo` (a Loki 2.x value")]
    public void Values_no_Loki_3_accepts_are_unrecognized(string value, string expected)
    {
        var error = Assert.Throws<ConfigException>(() => Load(PeriodOn(value)));

        Assert.Contains("key schema_config.configs[0].object_store: " + expected, error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Named_stores_resolve_by_kind()
    {
        var text = """
            schema_config:
              configs:
                - {from: 2024-01-01, store: tsdb, object_store: archive, schema: v13, index: {prefix: index_, period: 24h}}
                - {from: 2024-02-01, store: tsdb, object_store: scratch, schema: v13, index: {prefix: index_, period: 24h}}
            storage_config:
              named_stores:
                aws:
                  archive: {s3: 's3://AK:SK@eu-west-1/archive', disable_dualstack: true}
                filesystem:
                  scratch: {directory: /scratch}
                gcs:
                  elsewhere: {bucket_name: b}
            """;
        var loaded = Load(text);

        var archive = ObjectStoreSelection.ForPeriod(loaded.Config, 0);
        Assert.Equal((ObjectStoreKind.S3, "archive", "eu-west-1"), (archive.Kind, archive.S3!.BucketName, archive.S3.Region));
        var scratch = ObjectStoreSelection.ForPeriod(loaded.Config, 1);
        Assert.Equal((ObjectStoreKind.Filesystem, "/scratch"), (scratch.Kind, scratch.Directory));
        Assert.Equal([("storage_config.named_stores.aws.*.disable_dualstack", 8L), ("storage_config.named_stores.gcs", 11L)],
            loaded.Notices.Select(n => (n.Key, n.Line)));

        var error = Assert.Throws<ConfigException>(() => Load(text.Replace("object_store: scratch", "object_store: elsewhere", StringComparison.Ordinal)));
        Assert.Contains("key schema_config.configs[1].object_store: \"elsewhere\" is a named gcs store (storage_config.named_stores.gcs) that LokiSharp does not support",
            error.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("aws:\n      s3: {bucketnames: b}", "key storage_config.named_stores.aws.s3: named store \"s3\" should not match with the name of a predefined storage type")]
    [InlineData("aws:\n      x: {bucketnames: b}\n    gcs:\n      x: {bucket_name: b}", "named store \"x\" is already defined under aws")]
    [InlineData("gcs:\n      x: {bucket_nam: b}", "key storage_config.named_stores.gcs.*.bucket_nam: unknown configuration key")]
    public void Named_stores_are_checked_as_Loki_checks_them(string stores, string expected)
    {
        var error = Assert.Throws<ConfigException>(() => Load(ConfigLoaderTests.MinimalSchema + "storage_config:\n  named_stores:\n    " + stores + "\n"));

        Assert.Contains(expected, error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Secrets_come_from_the_environment_with_expand_env()
    {
        var suffix = Guid.NewGuid().ToString("N");
        Environment.SetEnvironmentVariable("LS_TEST_S3_KEY_" + suffix, "AKIAENV");
        Environment.SetEnvironmentVariable("LS_TEST_S3_SECRET_" + suffix, "wJalr/XUtnFEMI+K7MDENG");
        try
        {
            var text = S3Schema + $"storage_config:\n  aws:\n    bucketnames: logs\n    access_key_id: ${{LS_TEST_S3_KEY_{suffix}}}\n" +
                $"    secret_access_key: ${{LS_TEST_S3_SECRET_{suffix}}}\n";

            var config = Load(text, expandEnv: true).Config;
            var options = ObjectStoreSelection.ForPeriod(config, 0).S3!;

            Assert.Equal(("AKIAENV", "wJalr/XUtnFEMI+K7MDENG"), (options.AccessKeyId, options.SecretAccessKey));
            Assert.DoesNotContain("wJalr", ConfigYamlWriter.Write(config), StringComparison.Ordinal);
            Assert.Equal("${LS_TEST_S3_KEY_" + suffix + "}", Load(text).Config.StorageConfig.Aws.AccessKeyId);
        }
        finally
        {
            Environment.SetEnvironmentVariable("LS_TEST_S3_KEY_" + suffix, null);
            Environment.SetEnvironmentVariable("LS_TEST_S3_SECRET_" + suffix, null);
        }
    }

    [Fact]
    public void Config_output_masks_secrets_as_Loki_does()
    {
        var config = Load(S3Schema + "common:\n  storage:\n    s3:\n      s3: s3://AKIA:urlsecret@eu-west-1/logs\n" +
            "storage_config:\n  aws:\n    secret_access_key: topsecret\n    access_key_id: AKIA\n    session_token: tokensecret\n" +
            "  named_stores:\n    aws:\n      other: {bucketnames: b, access_key_id: A, secret_access_key: namedsecret}\n").Config;

        foreach (var text in new[] { ConfigYamlWriter.Write(config), ConfigYamlWriter.WriteDiff(config, new LokiConfig()) })
        {
            Assert.DoesNotContain("secret", text.Replace("secret_access_key", "", StringComparison.Ordinal), StringComparison.Ordinal);
            Assert.Contains("    secret_access_key: \"********\"\n", text, StringComparison.Ordinal);
            Assert.Contains("    session_token: \"********\"\n", text, StringComparison.Ordinal);
            Assert.Contains("s3: \"s3://AKIA:xxxxx@eu-west-1/logs\"\n", text, StringComparison.Ordinal);
            Assert.Contains("access_key_id: AKIA\n", text, StringComparison.Ordinal);
        }

        var defaults = ConfigYamlWriter.Write(new LokiConfig());
        Assert.Contains("  aws:\n    s3: \"\"\n    s3forcepathstyle: false\n", defaults, StringComparison.Ordinal);
        Assert.Contains("    secret_access_key: \"\"\n", defaults, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("s3://AKIA:sec%2Fret@eu-west-1/logs", "s3://AKIA:xxxxx@eu-west-1/logs")]
    [InlineData("https://AKIA:a/b@host.example.com/logs", "https://AKIA:xxxxx@host.example.com/logs")]
    [InlineData("s3://eu-west-1/logs", "s3://eu-west-1/logs")]
    [InlineData("s3://AKIA@eu-west-1/logs", "s3://AKIA@eu-west-1/logs")]
    [InlineData("inmemory:///logs", "inmemory:///logs")]
    public void URL_passwords_are_redacted(string url, string expected)
    {
        Assert.Equal(expected, SecretAttribute.RedactUrl(url));
    }

    [Fact]
    public void Loki_docs_S3_cluster_example_loads()
    {
        var loaded = Load(Fixture("loki-s3-cluster-example.yaml"));

        var selection = ObjectStoreSelection.ForPeriod(loaded.Config, 0);
        Assert.Equal(ObjectStoreKind.S3, selection.Kind);
        var options = selection.S3!;

        // "custom_endpoint" has no dot, so Loki takes it for a region.
        Assert.Equal((null, "custom_endpoint", "bucket_name"), (options.Endpoint, options.Region, options.BucketName));
        Assert.Equal(("access_key", "secret_access_key"), (options.AccessKeyId, options.SecretAccessKey));
        Assert.True(options.ForcePathStyle);
        Assert.DoesNotContain(loaded.Notices, n => n.Key == "storage_config.aws");
    }

    [Fact]
    public void Loki_docs_expanded_S3_snippet_loads_and_its_two_buckets_are_refused_for_S3_periods()
    {
        var snippet = Fixture("loki-s3-expanded-snippet.yaml");
        var config = Load(ConfigLoaderTests.MinimalSchema + snippet).Config;

        var aws = config.StorageConfig.Aws;
        Assert.Equal(("s3.endpoint.com", "s3_region", "s3_access_key_id", "s3_secret_access_key"),
            (aws.Endpoint, aws.Region, aws.AccessKeyId, aws.SecretAccessKey));
        Assert.Equal(TimeSpan.FromSeconds(90), aws.HttpConfig.IdleConnTimeout);
        Assert.True(aws.S3ForcePathStyle);

        var error = Assert.Throws<ConfigException>(() => Load(S3Schema + snippet));
        Assert.Contains("key storage_config.aws.bucketnames: 2 buckets are listed (bucket_name1, bucket_name2)", error.Message, StringComparison.Ordinal);
    }

    private static string PeriodOn(string objectStore) =>
        $"schema_config:\n  configs:\n    - {{from: 2024-01-01, store: tsdb, object_store: '{objectStore}', schema: v13, index: {{prefix: index_, period: 24h}}}}\n";
}
