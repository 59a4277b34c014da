using System.Security.Cryptography;
using System.Text;

namespace CaptionService.Api.Tests.Infrastructure;

/// <summary>The real application with API keys on: <see cref="Key"/> is accepted, given as its hash like an operator would.</summary>
public sealed class ApiKeyServer() : CaptionServiceFactory(new Dictionary<string, string?>
{
    ["CaptionService:Security:ApiKeys:0"] = Hash(Key),
    ["CaptionService:Security:OpenMetrics"] = "false",
})
{
    public const string Key = "test-key-5f7a2c";

    public static string Hash(string key) => Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(key)));
}
