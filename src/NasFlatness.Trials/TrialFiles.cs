using System.Text.Json;
using System.Text.Json.Serialization;

namespace NasFlatness.Trials;

/// <summary>Atomic writes of the small JSON and text files of a trial folder.</summary>
internal static class TrialFiles
{
    public static readonly JsonSerializerOptions Json = new()
    {
        WriteIndented = true,
        PropertyNamingPolicy = JsonNamingPolicy.CamelCase,
        NumberHandling = JsonNumberHandling.AllowNamedFloatingPointLiterals,
        Converters = { new JsonStringEnumConverter(JsonNamingPolicy.CamelCase) },
    };

    /// <summary>Writes <paramref name="text"/> to a temporary file beside <paramref name="path"/>, flushes it, and renames it over <paramref name="path"/>.</summary>
    public static void WriteAtomically(string path, string text) =>
        AtomicFile.Write(path, s => s.Write(System.Text.Encoding.UTF8.GetBytes(text)), uniqueTemporary: true);
}
