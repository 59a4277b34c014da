using System.Collections.Concurrent;
using System.Diagnostics;
using System.Net;
using System.Net.Sockets;

namespace CaptionService.Api.Tests.Infrastructure;

/// <summary>
/// The real server as its own process (<c>dotnet CaptionService.Api.dll</c>) on a free loopback
/// port, with its output captured: for what TestServer cannot show (signals, exit codes, sockets
/// for a browser, Kestrel's own body handling).
/// </summary>
internal sealed class ServerProcess : IAsyncDisposable
{
    private readonly Process _process;
    private readonly ConcurrentQueue<string> _output = new();

    private ServerProcess(Process process, Uri baseAddress)
    {
        _process = process;
        BaseAddress = baseAddress;
    }

    public Uri BaseAddress { get; }

    public bool HasExited => _process.HasExited;

    public int ExitCode => _process.ExitCode;

    /// <summary>Everything the server wrote to stdout and stderr so far, one entry per line.</summary>
    public IReadOnlyList<string> OutputLines => [.. _output];

    public string Output => string.Join('\n', _output);

    /// <param name="environment">Extra environment variables, e.g. <c>CaptionService__Batching__MaxBatchSize</c>.</param>
    /// <param name="urlsFromEnvironment">Choose the address with ASPNETCORE_URLS instead of <c>--urls</c>.</param>
    public static ServerProcess Start(IReadOnlyDictionary<string, string>? environment = null, bool urlsFromEnvironment = false)
    {
        var serverDirectory = AppContext.BaseDirectory;
        var baseAddress = new Uri($"http://127.0.0.1:{FreeLoopbackPort()}");
        var startInfo = new ProcessStartInfo("dotnet")
        {
            // The server's own copy of its build output lies next to the tests, model package included.
            WorkingDirectory = serverDirectory,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        startInfo.ArgumentList.Add(Path.Combine(serverDirectory, "CaptionService.Api.dll"));
        if (urlsFromEnvironment)
        {
            startInfo.Environment["ASPNETCORE_URLS"] = baseAddress.ToString();
        }
        else
        {
            startInfo.ArgumentList.Add("--urls");
            startInfo.ArgumentList.Add(baseAddress.ToString());
        }

        startInfo.Environment["DOTNET_ENVIRONMENT"] = "Production";
        startInfo.Environment["ASPNETCORE_ENVIRONMENT"] = "Production";
        foreach (var (name, value) in environment ?? new Dictionary<string, string>())
        {
            startInfo.Environment[name] = value;
        }

        var process = new Process { StartInfo = startInfo };
        var server = new ServerProcess(process, baseAddress);
        process.OutputDataReceived += (_, e) => server.Capture(e.Data);
        process.ErrorDataReceived += (_, e) => server.Capture(e.Data);
        process.Start();
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        return server;
    }

    /// <summary>Polls <c>/health/ready</c> until 200; fails with the server's output if it exits first.</summary>
    public async Task WaitUntilReadyAsync(HttpClient client, CancellationToken cancellationToken)
    {
        while (true)
        {
            if (_process.HasExited)
            {
                throw new InvalidOperationException($"The server exited with {_process.ExitCode} before it was ready:\n{Output}");
            }

            try
            {
                using var response = await client.GetAsync(new Uri(BaseAddress, "/health/ready"), cancellationToken);
                if (response.StatusCode == HttpStatusCode.OK)
                {
                    return;
                }
            }
            catch (HttpRequestException)
            {
                // Not listening yet.
            }

            await Task.Delay(TimeSpan.FromMilliseconds(100), cancellationToken);
        }
    }

    /// <summary>What Kubernetes sends to stop a pod.</summary>
    public void SendSigterm()
    {
        using var kill = Process.Start("kill", ["-TERM", _process.Id.ToString(System.Globalization.CultureInfo.InvariantCulture)]);
        kill.WaitForExit();
    }

    public async Task<int> WaitForExitAsync(CancellationToken cancellationToken)
    {
        await _process.WaitForExitAsync(cancellationToken);
        return _process.ExitCode;
    }

    public async ValueTask DisposeAsync()
    {
        if (!_process.HasExited)
        {
            _process.Kill(entireProcessTree: true);
            await _process.WaitForExitAsync();
        }

        _process.Dispose();
    }

    internal static int FreeLoopbackPort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }

    private void Capture(string? line)
    {
        if (line is not null)
        {
            _output.Enqueue(line);
        }
    }
}
