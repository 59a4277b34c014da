using System.Security.Cryptography;
using System.Text;
using Microsoft.Extensions.Options;

namespace CaptionService.Api.Security;

/// <summary>
/// The accepted API keys, as SHA-256 hashes from <see cref="SecurityOptions"/> (configuration and
/// the key file). A presented key is hashed and compared with every hash in constant time, so
/// neither the comparison nor the number of keys checked reveals how close a guess was.
/// </summary>
internal sealed class ApiKeyRing
{
    private readonly byte[][] _hashes;

    public ApiKeyRing(IOptions<SecurityOptions> options)
    {
        var settings = options.Value;
        var lines = settings.ApiKeys.AsEnumerable();
        if (!string.IsNullOrWhiteSpace(settings.ApiKeysFile))
        {
            if (!File.Exists(settings.ApiKeysFile))
            {
                throw new OptionsValidationException(SecurityOptions.SectionName, typeof(SecurityOptions),
                    [$"ApiKeysFile '{settings.ApiKeysFile}' does not exist."]);
            }

            lines = lines.Concat(File.ReadAllLines(settings.ApiKeysFile));
        }

        _hashes = [.. lines
            .Select(line => line.Trim())
            .Where(line => line.Length > 0 && !line.StartsWith('#'))
            .Select(Parse)];
    }

    /// <summary>Whether any key is configured; without one the server is open.</summary>
    public bool IsEnabled => _hashes.Length > 0;

    public int Count => _hashes.Length;

    /// <summary>True when <paramref name="presentedKey"/> hashes to one of the configured hashes.</summary>
    public bool Accepts(string presentedKey)
    {
        Span<byte> presented = stackalloc byte[SHA256.HashSizeInBytes];
        SHA256.HashData(Encoding.UTF8.GetBytes(presentedKey), presented);
        var accepted = false;
        foreach (var hash in _hashes)
        {
            // No early exit: every hash is compared whatever the outcome.
            accepted |= CryptographicOperations.FixedTimeEquals(presented, hash);
        }

        return accepted;
    }

    private static byte[] Parse(string hex)
    {
        // sha256sum prints "<hash>  -"; take the hash.
        var hash = hex.Split(' ', 2)[0];
        if (hash.Length != SHA256.HashSizeInBytes * 2 || !hash.All(Uri.IsHexDigit))
        {
            throw new OptionsValidationException(SecurityOptions.SectionName, typeof(SecurityOptions),
                [$"An API key entry is not a SHA-256 hash (64 hex digits): '{(hash.Length > 8 ? hash[..8] + "…" : hash)}'. Configure hashes, never the keys themselves."]);
        }

        return Convert.FromHexString(hash);
    }
}
