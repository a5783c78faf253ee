using System.Text.Json;
using System.Text.Json.Serialization;

namespace NasFlatness.MultiObjective;

/// <summary>The JSON state of a <see cref="ParetoSearch{T}"/>: its settings that must match on resume, counters, and the archive (keys and metrics).</summary>
internal sealed class ParetoSearchCheckpoint
{
    private static readonly JsonSerializerOptions s_json = new()
    {
        WriteIndented = true,
        PropertyNamingPolicy = JsonNamingPolicy.CamelCase,
        NumberHandling = JsonNumberHandling.AllowNamedFloatingPointLiterals,
    };

    public string Format { get; set; } = "";
    public int Seed { get; set; }
    public int InitialSamples { get; set; }
    public int EvaluationsPerIteration { get; set; }
    public int PopulationSize { get; set; }
    public double CrossoverProbability { get; set; }
    // Absent for a search without a surrogate.
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public string? Surrogate { get; set; }
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public int? SurrogateGenerations { get; set; }
    public string[] MetricNames { get; set; } = [];
    public string[] ObjectiveNames { get; set; } = [];
    public int Iteration { get; set; }
    public double BestHypervolume { get; set; }
    public int IterationsWithoutImprovement { get; set; }
    public bool Exhausted { get; set; }
    public double[] HypervolumeHistory { get; set; } = [];
    public Entry[] Archive { get; set; } = [];

    public sealed class Entry
    {
        public string Key { get; set; } = "";
        public int Iteration { get; set; }
        public double[] Metrics { get; set; } = [];
    }

    /// <summary>Writes to a temporary file beside <paramref name="path"/>, then renames it over <paramref name="path"/>.</summary>
    public void Write(string path)
    {
        AtomicFile.Write(path, stream => JsonSerializer.Serialize(stream, this, s_json));
    }

    public static ParetoSearchCheckpoint Read(string path)
    {
        if (!File.Exists(path)) throw new FileNotFoundException($"There is no Pareto search checkpoint at '{path}'.", path);
        try
        {
            using var stream = File.OpenRead(path);
            var checkpoint = JsonSerializer.Deserialize<ParetoSearchCheckpoint>(stream, s_json)
                ?? throw new InvalidDataException($"Checkpoint '{path}' is empty.");
            if (checkpoint.Archive.Any(e => e is null || e.Key is null || e.Metrics is null))
                throw new InvalidDataException($"Checkpoint '{path}' has an incomplete archive entry.");
            return checkpoint;
        }
        catch (JsonException e)
        {
            throw new InvalidDataException($"Checkpoint '{path}' is not valid JSON of a Pareto search: {e.Message}", e);
        }
    }
}
