// <snippet:di:usings>
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using NasFlatness.Search;
// </snippet:di:usings>

namespace NasFlatness.QuickStart;

public static partial class UseFromCode
{
    /// <summary>
    /// The README's dependency-injection snippet: the search composed from <c>appsettings.json</c> (this sample's, copied next
    /// to the program). Its body uses nothing from outside, as a program's top-level statements.
    /// </summary>
    public static SearchRunner FromConfiguration()
    {
        // <snippet:di>
        // appsettings.json: { "NasFlatness": { "Method": "beta-darts+a2m", "Search": { "Epochs": 50 } } }
        var configuration = new ConfigurationBuilder().AddJsonFile("appsettings.json").Build();
        var services = new ServiceCollection().AddLogging();
        services.AddNasFlatness(configuration.GetSection("NasFlatness"));   // names and options validated at start
        using var provider = services.BuildServiceProvider();              // disposing it disposes the runners it created
        var runner = provider.GetRequiredService<SearchRunner>();
        Console.WriteLine($"{runner.Optimizer.Name} + {string.Join(", ", runner.Regularizers.Select(r => r.Name))}, {runner.Options.Epochs} epochs");
        // </snippet:di>
        return runner;
    }
}
