using System.Net.Security;
using System.Security.Cryptography.X509Certificates;

namespace LokiSharp.Ruler.Delivery;

/// <summary>
/// TLS settings of an outgoing client (Alertmanager, remote write): skip verification, or trust a PEM CA file
/// instead of the system roots, and the server name to verify.
/// </summary>
public sealed record ClientTls(bool InsecureSkipVerify = false, string? CaFile = null, string? ServerName = null)
{
    /// <summary>A handler with these settings; requests carry their own timeouts, so the handler has none.</summary>
    internal SocketsHttpHandler CreateHandler()
    {
        var handler = new SocketsHttpHandler { PooledConnectionLifetime = TimeSpan.FromMinutes(5) };
        if (InsecureSkipVerify)
        {
            handler.SslOptions.RemoteCertificateValidationCallback = static (_, _, _, _) => true;
        }
        else if (!string.IsNullOrEmpty(CaFile))
        {
            var roots = new X509Certificate2Collection();
            roots.ImportFromPemFile(CaFile);
            handler.SslOptions.RemoteCertificateValidationCallback = (_, certificate, _, errors) =>
                VerifyAgainst(roots, certificate, errors);
        }

        if (!string.IsNullOrEmpty(ServerName))
        {
            handler.SslOptions.TargetHost = ServerName;
        }

        return handler;
    }

    private static bool VerifyAgainst(X509Certificate2Collection roots, X509Certificate? certificate, SslPolicyErrors errors)
    {
        if (certificate is null || (errors & SslPolicyErrors.RemoteCertificateNameMismatch) != 0)
        {
            return false;
        }

        using var chain = new X509Chain();
        chain.ChainPolicy.TrustMode = X509ChainTrustMode.CustomRootTrust;
        chain.ChainPolicy.CustomTrustStore.AddRange(roots);
        chain.ChainPolicy.RevocationMode = X509RevocationMode.NoCheck;
        return chain.Build(new X509Certificate2(certificate));
    }
}
