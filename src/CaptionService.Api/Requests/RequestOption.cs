namespace CaptionService.Api.Requests;

/// <summary>How a request option's value is written.</summary>
internal enum OptionKind
{
    /// <summary>A whole number.</summary>
    Integer,

    /// <summary>A finite decimal number.</summary>
    Number,

    /// <summary>One of a few words (<see cref="RequestOption.Choices"/>).</summary>
    Choice,

    /// <summary><c>true</c> or <c>false</c>.</summary>
    Boolean,
}

/// <summary>
/// One request option: its name on the wire, what it means, and the bounds and default the server
/// applies. The OpenAPI document and the README's option table are written from these, so that
/// docs and behaviour cannot say different things.
/// </summary>
/// <param name="Name">The query parameter and form field name.</param>
/// <param name="Kind">Whole number or decimal.</param>
/// <param name="Meaning">What the option does, in one or two sentences of Markdown.</param>
/// <param name="Example">A typical valid value, for the documentation.</param>
/// <param name="Minimum">The smallest accepted value, when there is one.</param>
/// <param name="Maximum">The largest accepted value, when there is one.</param>
/// <param name="Default">The value used when the option is absent, when it is a fixed number.</param>
/// <param name="Choices">The accepted words of a <see cref="OptionKind.Choice"/> option.</param>
internal sealed record RequestOption(
    string Name,
    OptionKind Kind,
    string Meaning,
    string Example,
    double? Minimum = null,
    double? Maximum = null,
    int? Default = null,
    IReadOnlyList<string>? Choices = null);
