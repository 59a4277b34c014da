namespace CaptionService.Inference;

/// <summary>
/// The model package cannot be loaded: a file is missing, unreadable, malformed, inconsistent with
/// the graphs, or fails its sha256 check. The message names the file and what is wrong with it.
/// </summary>
public sealed class ModelPackageException : Exception
{
    public ModelPackageException()
    {
    }

    public ModelPackageException(string message)
        : base(message)
    {
    }

    public ModelPackageException(string message, Exception innerException)
        : base(message, innerException)
    {
    }
}
