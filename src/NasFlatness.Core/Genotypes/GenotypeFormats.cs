using System.Collections.Concurrent;
using System.Text.Json;
using System.Text.Json.Serialization;

namespace NasFlatness.Genotypes;

/// <summary>
/// The process-wide registry of genotype text formats: space name → parser. It is what lets a genotype of any space
/// round-trip through JSON (checkpoints, results) as its space name plus its text. Spaces are registered when a search
/// or an evaluation uses them (<see cref="Register(ISearchSpace)"/>); register a user's format before reading JSON
/// that contains it outside a search.
/// </summary>
public static class GenotypeFormats
{
    private static readonly ConcurrentDictionary<string, Func<string, Genotype>> Parsers = new(StringComparer.Ordinal);

    /// <summary>Registers (or replaces) the parser of the genotypes of space <paramref name="spaceName"/>.</summary>
    /// <param name="spaceName">The space name (<see cref="Genotype.SpaceName"/>).</param>
    /// <param name="parse">Parses the space's community text format; throws <see cref="GenotypeFormatException"/> on bad text.</param>
    public static void Register(string spaceName, Func<string, Genotype> parse)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(spaceName);
        ArgumentNullException.ThrowIfNull(parse);
        Parsers[spaceName] = parse;
    }

    /// <summary>Registers the genotype format of <paramref name="space"/> (its name and <see cref="ISearchSpace.Parse"/>).</summary>
    public static void Register(ISearchSpace space)
    {
        ArgumentNullException.ThrowIfNull(space);
        Register(space.Name, space.Parse);
    }

    /// <summary>Whether a parser is registered for <paramref name="spaceName"/>.</summary>
    public static bool IsRegistered(string spaceName) => Parsers.ContainsKey(spaceName);

    /// <summary>Parses <paramref name="text"/> as a genotype of space <paramref name="spaceName"/>.</summary>
    /// <exception cref="InvalidOperationException">No parser is registered for the space (the message says how to register one).</exception>
    /// <exception cref="GenotypeFormatException">The text is not a genotype of that space.</exception>
    public static Genotype Parse(string spaceName, string text)
    {
        ArgumentNullException.ThrowIfNull(spaceName);
        ArgumentNullException.ThrowIfNull(text);
        if (!Parsers.TryGetValue(spaceName, out var parse))
            throw new InvalidOperationException(
                $"No genotype format is registered for search space '{Abbreviate(spaceName)}' (known: {string.Join(", ", Parsers.Keys.Order(StringComparer.Ordinal))}). " +
                $"Register it with {nameof(GenotypeFormats)}.{nameof(Register)}(space) before reading genotypes of that space.");
        return parse(text);
    }

    internal static string Abbreviate(string text, int max = 120) => text.Length <= max ? text : text[..max] + "…";
}

/// <summary>
/// The JSON converter of <see cref="Genotype"/> and every derived type: <c>{"space": …, "text": …}</c>, read back through
/// <see cref="GenotypeFormats"/>. <see cref="Genotype"/> carries it, so values typed as <see cref="Genotype"/> need nothing;
/// put <c>[JsonConverter(typeof(GenotypeJsonConverter))]</c> on your own genotype class (as the built-in ones have) so that
/// values typed as that class serialise the same way.
/// </summary>
public sealed class GenotypeJsonConverter : JsonConverterFactory
{
    /// <inheritdoc />
    public override bool CanConvert(Type typeToConvert) => typeof(Genotype).IsAssignableFrom(typeToConvert);

    /// <inheritdoc />
    public override JsonConverter CreateConverter(Type typeToConvert, JsonSerializerOptions options) =>
        (JsonConverter)Activator.CreateInstance(typeof(GenotypeJsonConverter<>).MakeGenericType(typeToConvert))!;
}

/// <summary>Writes a genotype as <c>{"space": name, "text": community text}</c> and reads it back through <see cref="GenotypeFormats"/>.</summary>
internal sealed class GenotypeJsonConverter<T> : JsonConverter<T> where T : Genotype
{
    public override T? Read(ref Utf8JsonReader reader, Type typeToConvert, JsonSerializerOptions options)
    {
        if (reader.TokenType == JsonTokenType.Null) return null;
        if (reader.TokenType != JsonTokenType.StartObject) throw new JsonException("A genotype must be a JSON object {\"space\": …, \"text\": …}.");
        string? space = null, text = null;
        while (reader.Read() && reader.TokenType != JsonTokenType.EndObject)
        {
            if (reader.TokenType != JsonTokenType.PropertyName) throw new JsonException("Malformed genotype object.");
            var property = reader.GetString();
            reader.Read();
            switch (property)
            {
                case "space": space = reader.TokenType == JsonTokenType.String ? reader.GetString() : throw new JsonException("The genotype's \"space\" must be a string."); break;
                case "text": text = reader.TokenType == JsonTokenType.String ? reader.GetString() : throw new JsonException("The genotype's \"text\" must be a string."); break;
                default: reader.Skip(); break;
            }
        }
        if (space is null || text is null) throw new JsonException("A genotype needs both \"space\" and \"text\".");
        Genotype genotype;
        try
        {
            genotype = GenotypeFormats.Parse(space, text);
        }
        catch (Exception ex) when (ex is GenotypeFormatException or InvalidOperationException)
        {
            throw new JsonException(ex.Message, ex);
        }
        return genotype as T ?? throw new JsonException(
            $"The genotype of space '{GenotypeFormats.Abbreviate(space)}' is a {genotype.GetType().Name}, not a {typeof(T).Name}.");
    }

    public override void Write(Utf8JsonWriter writer, T value, JsonSerializerOptions options)
    {
        writer.WriteStartObject();
        writer.WriteString("space", value.SpaceName);
        writer.WriteString("text", value.ToString());
        writer.WriteEndObject();
    }
}
