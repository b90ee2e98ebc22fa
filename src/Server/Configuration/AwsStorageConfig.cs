using YamlDotNet.Serialization;

namespace LokiSharp.Server.Configuration;

/// <summary>
/// Loki's S3 client settings, the shape of <c>storage_config.aws</c>, <c>common.storage.s3</c> and each
/// <c>storage_config.named_stores.aws.&lt;name&gt;</c>; defaults are Loki 3.x's. <see cref="S3StorageConfig"/>
/// turns them into the S3 store's options the way Loki resolves them.
/// </summary>
public sealed class AwsStorageConfig
{
    /// <summary>
    /// <c>s3</c>: the URL form, <c>s3://key:secret@region/bucket</c> or <c>http(s)://key:secret@host.domain:port/bucket</c>;
    /// printed with its password redacted, as Loki does.
    /// </summary>
    [Secret(UrlPassword = true)]
    public string S3 { get; set; } = "";

    /// <summary><c>s3forcepathstyle</c>: path-style addressing (<c>endpoint/bucket/key</c>).</summary>
    [YamlMember(Alias = "s3forcepathstyle")]
    public bool S3ForcePathStyle { get; set; }

    /// <summary><c>bucketnames</c>: comma-separated; overrides a bucket in the <c>s3</c> URL.</summary>
    public string Bucketnames { get; set; } = "";

    /// <summary><c>endpoint</c>: host[:port] of an S3-compatible server, or a full URL.</summary>
    public string Endpoint { get; set; } = "";

    /// <summary><c>region</c>.</summary>
    public string Region { get; set; } = "";

    /// <summary><c>access_key_id</c>.</summary>
    public string AccessKeyId { get; set; } = "";

    /// <summary><c>secret_access_key</c>: printed as <c>********</c>.</summary>
    [Secret]
    public string SecretAccessKey { get; set; } = "";

    /// <summary><c>session_token</c>: printed as <c>********</c>.</summary>
    [Secret]
    public string SessionToken { get; set; } = "";

    /// <summary><c>insecure</c>: plain HTTP.</summary>
    public bool Insecure { get; set; }

    /// <summary><c>http_config</c>.</summary>
    public AwsHttpConfig HttpConfig { get; set; } = new();

    /// <summary><c>signature_version</c>: Loki supports only <c>v4</c>.</summary>
    public string SignatureVersion { get; set; } = "v4";

    /// <summary><c>storage_class</c> of written objects.</summary>
    public string StorageClass { get; set; } = "STANDARD";

    /// <summary><c>sse</c>: server-side encryption.</summary>
    public AwsSseConfig Sse { get; set; } = new();

    /// <summary><c>backoff_config</c>: retries of failed requests.</summary>
    public BackoffConfig BackoffConfig { get; set; } = new();
}

/// <summary><c>http_config</c> of the S3 client.</summary>
public sealed class AwsHttpConfig
{
    /// <summary><c>timeout</c>: limit for a whole request; zero means none.</summary>
    public TimeSpan Timeout { get; set; }

    /// <summary><c>idle_conn_timeout</c>.</summary>
    [InertKey]
    public TimeSpan IdleConnTimeout { get; set; } = TimeSpan.FromSeconds(90);

    /// <summary><c>response_header_timeout</c>: zero means none.</summary>
    public TimeSpan ResponseHeaderTimeout { get; set; }

    /// <summary><c>insecure_skip_verify</c>.</summary>
    [InertKey]
    public bool InsecureSkipVerify { get; set; }

    /// <summary><c>ca_file</c>: the CA that signed the endpoint's certificate.</summary>
    [InertKey]
    public string CaFile { get; set; } = "";
}

/// <summary><c>sse</c>: S3 server-side encryption.</summary>
public sealed class AwsSseConfig
{
    /// <summary><c>type</c>: empty, <c>SSE-KMS</c> or <c>SSE-S3</c>.</summary>
    public string Type { get; set; } = "";

    /// <summary><c>kms_key_id</c>.</summary>
    [InertKey]
    public string KmsKeyId { get; set; } = "";

    /// <summary><c>kms_encryption_context</c>: a JSON object.</summary>
    [InertKey]
    public string KmsEncryptionContext { get; set; } = "";
}

/// <summary>A <c>backoff_config</c> block: delays between retries and how many.</summary>
public sealed class BackoffConfig
{
    /// <summary><c>min_period</c>.</summary>
    public TimeSpan MinPeriod { get; set; } = TimeSpan.FromMilliseconds(100);

    /// <summary><c>max_period</c>.</summary>
    public TimeSpan MaxPeriod { get; set; } = TimeSpan.FromSeconds(3);

    /// <summary><c>max_retries</c>.</summary>
    public int MaxRetries { get; set; } = 5;
}

/// <summary>
/// <c>storage_config.named_stores</c>: extra stores a schema period's <c>object_store</c> can name. The AWS and
/// filesystem kinds are modelled; the others are kept by name only (their keys are checked against the catalog).
/// </summary>
public sealed class NamedStoresConfig
{
    /// <summary><c>aws</c>: named S3 stores.</summary>
    public Dictionary<string, AwsStorageConfig> Aws { get; set; } = new(StringComparer.Ordinal);

    /// <summary><c>filesystem</c>: named local directories.</summary>
    public Dictionary<string, FilesystemDirectoryConfig> Filesystem { get; set; } = new(StringComparer.Ordinal);

    /// <summary><c>azure</c>.</summary>
    [InertKey]
    public Dictionary<string, UnsupportedNamedStore> Azure { get; set; } = new(StringComparer.Ordinal);

    /// <summary><c>bos</c>.</summary>
    [InertKey]
    public Dictionary<string, UnsupportedNamedStore> Bos { get; set; } = new(StringComparer.Ordinal);

    /// <summary><c>gcs</c>.</summary>
    [InertKey]
    public Dictionary<string, UnsupportedNamedStore> Gcs { get; set; } = new(StringComparer.Ordinal);

    /// <summary><c>alibabacloud</c>.</summary>
    [InertKey]
    [YamlMember(Alias = "alibabacloud")]
    public Dictionary<string, UnsupportedNamedStore> AlibabaCloud { get; set; } = new(StringComparer.Ordinal);

    /// <summary><c>swift</c>.</summary>
    [InertKey]
    public Dictionary<string, UnsupportedNamedStore> Swift { get; set; } = new(StringComparer.Ordinal);

    /// <summary><c>cos</c>.</summary>
    [InertKey]
    public Dictionary<string, UnsupportedNamedStore> Cos { get; set; } = new(StringComparer.Ordinal);

    /// <summary>Loki's start-up checks: a name is not a built-in store type and is defined under one kind only.</summary>
    /// <exception cref="ConfigException">A name that breaks either rule.</exception>
    public void Validate()
    {
        var kinds = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var (kind, names) in new (string, IEnumerable<string>)[]
        {
            ("aws", Aws.Keys), ("filesystem", Filesystem.Keys), ("azure", Azure.Keys), ("bos", Bos.Keys), ("gcs", Gcs.Keys),
            ("alibabacloud", AlibabaCloud.Keys), ("swift", Swift.Keys), ("cos", Cos.Keys),
        })
        {
            foreach (var name in names)
            {
                if (ObjectStoreSelection.LokiStoreTypes.Contains(name))
                {
                    throw new ConfigException(
                        $"key storage_config.named_stores.{kind}.{name}: named store \"{name}\" should not match with the name of a predefined storage type");
                }

                if (!kinds.TryAdd(name, kind))
                {
                    throw new ConfigException(
                        $"key storage_config.named_stores.{kind}.{name}: named store \"{name}\" is already defined under {kinds[name]}");
                }
            }
        }
    }

    /// <summary>The kind of store <paramref name="name"/> names (<c>aws</c>, <c>gcs</c>...), or null when none does.</summary>
    public string? KindOf(string name) =>
        Aws.ContainsKey(name) ? "aws"
        : Filesystem.ContainsKey(name) ? "filesystem"
        : Azure.ContainsKey(name) ? "azure"
        : Bos.ContainsKey(name) ? "bos"
        : Gcs.ContainsKey(name) ? "gcs"
        : AlibabaCloud.ContainsKey(name) ? "alibabacloud"
        : Swift.ContainsKey(name) ? "swift"
        : Cos.ContainsKey(name) ? "cos"
        : null;
}

/// <summary>A named store of a kind LokiSharp cannot serve; its keys are accepted (catalog-checked) but not kept.</summary>
public sealed class UnsupportedNamedStore;
