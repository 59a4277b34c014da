namespace CaptionService.Api.Hosting;

internal static class ValidatedOptionsExtensions
{
    /// <summary>
    /// Binds an options class to its configuration section and validates its data annotations at
    /// start-up, so that an invalid setting stops the server with a message naming it.
    /// </summary>
    public static IServiceCollection AddValidatedOptions<TOptions>(this IServiceCollection services, string section)
        where TOptions : class
    {
        services.AddOptions<TOptions>()
            .BindConfiguration(section)
            .ValidateDataAnnotations()
            .ValidateOnStart();
        return services;
    }
}
