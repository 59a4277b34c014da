using System.Runtime.InteropServices;

namespace CaptionService.Inference;

/// <summary>
/// Lowers the scheduling priority of the calling thread alone. On Linux the nice value belongs to
/// each thread (<c>setpriority</c> with a thread id), and threads inherit it from the thread that
/// creates them, so a thread pool created by a lowered thread runs lowered too.
/// </summary>
internal static partial class ThreadNiceness
{
    /// <summary>The least favourable nice value Linux has.</summary>
    private const int Weakest = 19;

    private const int PriorityOfProcess = 0; // PRIO_PROCESS: with a thread id, that thread alone

    /// <summary>Whether this operating system gives threads nice values of their own.</summary>
    public static bool IsSupported => OperatingSystem.IsLinux();

    /// <summary>
    /// Adds <paramref name="increment"/> to the calling thread's nice value (at most 19), which
    /// any unprivileged thread may do.
    /// </summary>
    /// <returns>False where that is not supported or the kernel refused.</returns>
    public static bool LowerCurrentThread(int increment)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(increment);
        if (increment == 0)
        {
            return true;
        }

        return OfCurrentThread() is { } current && setpriority(PriorityOfProcess, gettid(), Math.Min(current + increment, Weakest)) == 0;
    }

    /// <summary>The calling thread's nice value; null where threads have none of their own.</summary>
    public static int? OfCurrentThread()
    {
        if (!IsSupported)
        {
            return null;
        }

        var current = getpriority(PriorityOfProcess, gettid());
        // -1 is also a valid nice value: only errno tells a failure.
        return current == -1 && Marshal.GetLastPInvokeError() != 0 ? null : current;
    }

    [LibraryImport("libc")]
    private static partial int gettid();

    [LibraryImport("libc", SetLastError = true)]
    private static partial int getpriority(int which, int who);

    [LibraryImport("libc", SetLastError = true)]
    private static partial int setpriority(int which, int who, int priority);
}
