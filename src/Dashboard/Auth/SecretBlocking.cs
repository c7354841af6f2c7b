using Dashboard.Secrets;
using Microsoft.AspNetCore.Components.Authorization;
using Microsoft.AspNetCore.Components.Server.Circuits;
using Microsoft.Extensions.DependencyInjection.Extensions;

namespace Dashboard.Auth;

/// <summary>
/// Secret blocking in the web layer (docs/adr/0012, "Secret blocking"): the policy from <c>Dashboard:Secrets:*</c>,
/// the one <see cref="SecretGuard"/> the services check with, and who the actor of a block is. The services know no
/// caller, so the actor is ambient (<see cref="AmbientActor"/>): set per HTTP request once it is authenticated, and per
/// inbound activity of a Blazor circuit (an event, a JS call) from the circuit's authentication state.
/// </summary>
public static class SecretBlocking
{
    public const string Section = "Dashboard:Secrets";

    /// <summary>Reads Enabled (default true), Policy (Refuse, the default, or Redact) and Allow (a list of keys).</summary>
    public static SecretPolicy ReadPolicy(IConfiguration configuration)
    {
        var section = configuration.GetSection(Section);
        var enabledText = section["Enabled"];
        var enabled = true;
        if (!string.IsNullOrEmpty(enabledText) && !bool.TryParse(enabledText, out enabled))
        {
            throw new InvalidOperationException($"{Section}:Enabled must be true or false.");
        }
        var policyText = section["Policy"];
        var action = SecretAction.Refuse;
        if (!string.IsNullOrEmpty(policyText)
            && (!Enum.TryParse(policyText, ignoreCase: true, out action) || !Enum.IsDefined(action)))
        {
            throw new InvalidOperationException($"{Section}:Policy is '{policyText}'; expected Refuse or Redact.");
        }
        // A list (Allow:0, Allow:1 … or a JSON array) or one comma-separated string (an environment variable).
        var allow = section.GetSection("Allow").Get<string[]>() ?? [];
        if (section["Allow"] is { Length: > 0 } single)
        {
            allow = [.. allow, .. single.Split(',')];
        }
        return SecretPolicy.Create(enabled, action, allow);
    }

    public static IServiceCollection AddSecretBlocking(this IServiceCollection services, IConfiguration configuration)
    {
        services.AddSingleton(ReadPolicy(configuration));
        services.AddSingleton<SecretGuard>();
        services.TryAddEnumerable(ServiceDescriptor.Scoped<CircuitHandler, SecretActorCircuitHandler>());
        return services;
    }

    /// <summary>After authentication: the request's caller becomes the ambient actor of everything it calls.</summary>
    public static void UseSecretActor(this WebApplication app) => app.Use(async (http, next) =>
    {
        using (AmbientActor.Use(CurrentCaller.Find(http.User)?.Name))
        {
            await next(http);
        }
    });
}

/// <summary>Sets the ambient actor for each inbound activity of a circuit: the user the circuit was opened by.</summary>
internal sealed class SecretActorCircuitHandler(IServiceProvider services) : CircuitHandler
{
    public override Func<CircuitInboundActivityContext, Task> CreateInboundActivityHandler(Func<CircuitInboundActivityContext, Task> next) =>
        async context =>
        {
            string? name = null;
            if (services.GetService<AuthenticationStateProvider>() is { } provider)
            {
                try
                {
                    name = CurrentCaller.Find((await provider.GetAuthenticationStateAsync()).User)?.Name;
                }
                catch (InvalidOperationException)
                {
                    // No authentication state yet: the activity has no known actor.
                }
            }
            using (AmbientActor.Use(name))
            {
                await next(context);
            }
        };
}
