using System.Runtime.CompilerServices;
using CaptionService.Inference.ModelPackage;

namespace CaptionService.Api.Tests;

/// <summary>
/// Creates ONNX Runtime's environment, with the shared thread pools, before any test runs. Test
/// classes run in parallel, and one that touches ONNX Runtime first (a tensor, a session of its
/// own) could create a default environment between another engine's check and its creation of
/// the shared one; that engine's sessions, set to use the shared pools, then failed to open
/// ("EnvCreatedWithGlobalThreadPools was false"). The server creates it at start-up, before
/// anything else, as this does.
/// </summary>
internal static class OrtEnvironmentFirst
{
#pragma warning disable CA2255 // A test assembly is the one library that must set up the process before its code runs.
    [ModuleInitializer]
#pragma warning restore CA2255
    internal static void Create() => OrtEnvironment.EnsureCreated(intraOpThreads: 0, interOpThreads: 1);
}
