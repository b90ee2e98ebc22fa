namespace LokiSharp.Server.Http;

/// <summary>Resolves the tenant of a request as Loki does: <c>fake</c> without auth, else <c>X-Scope-OrgID</c>.</summary>
internal sealed class Tenancy(bool authEnabled)
{
    /// <summary>Loki's tenant when authentication is off.</summary>
    public const string NoAuthTenant = "fake";

    private const int MaxTenantLength = 150;

    /// <summary>Whether requests must name their tenant.</summary>
    public bool AuthEnabled { get; } = authEnabled;

    /// <summary>The single tenant of a write (push, delete); null with <paramref name="error"/> set (status, text) otherwise.</summary>
    public string? ResolveSingle(string? header, out (int Status, string Message) error)
    {
        error = default;
        if (!AuthEnabled)
        {
            return NoAuthTenant;
        }

        if (string.IsNullOrEmpty(header))
        {
            error = (StatusCodes.Status401Unauthorized, "no org id");
            return null;
        }

        if (header.Contains('|', StringComparison.Ordinal))
        {
            error = (StatusCodes.Status400BadRequest, "multiple org IDs present");
            return null;
        }

        var invalid = Validate(header);
        if (invalid is not null)
        {
            error = (StatusCodes.Status401Unauthorized, invalid);
            return null;
        }

        return header;
    }

    /// <summary>
    /// The tenants of a read: one, or with <c>querier.multi_tenant_queries_enabled</c> several joined by
    /// <c>|</c> (sorted, without duplicates, each checked as a single one). Null with <paramref name="error"/>
    /// set otherwise.
    /// </summary>
    public IReadOnlyList<string>? ResolveRead(string? header, bool multiTenantQueries, out (int Status, string Message) error)
    {
        if (!AuthEnabled || !multiTenantQueries || header?.Contains('|', StringComparison.Ordinal) != true)
        {
            return ResolveSingle(header, out error) is { } single ? [single] : null;
        }

        error = default;
        var tenants = new SortedSet<string>(StringComparer.Ordinal);
        foreach (var tenant in header.Split('|'))
        {
            var invalid = tenant.Length == 0 ? "no org id" : Validate(tenant);
            if (invalid is not null)
            {
                error = (StatusCodes.Status401Unauthorized, invalid);
                return null;
            }

            tenants.Add(tenant);
        }

        return [.. tenants];
    }

    // dskit's tenant rules: at most 150 bytes, not "." or "..", only [a-zA-Z0-9!-_.*'()].
    private static string? Validate(string tenant)
    {
        if (tenant.Length > MaxTenantLength)
        {
            return $"tenant ID is too long: max {MaxTenantLength} characters";
        }

        if (tenant is "." or "..")
        {
            return "tenant ID is '.' or '..'";
        }

        foreach (var c in tenant)
        {
            if (!(char.IsAsciiLetterOrDigit(c) || c is '!' or '-' or '_' or '.' or '*' or '\'' or '(' or ')'))
            {
                return $"tenant ID '{tenant}' contains unsupported character '{c}'";
            }
        }

        return null;
    }
}
